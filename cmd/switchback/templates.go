package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/switchbackhq/switchback/internal/app"
	"github.com/switchbackhq/switchback/templates"
)

// runTemplates runs `templates sync` and `templates list`.
func runTemplates(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "templates", "templates sync | templates list [--json]")
	asJSON := fs.Bool("json", false, "list: print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"give sync or list"}
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	reg := app.TemplateRegistry(st)
	switch pos[0] {
	case "sync":
		w := cfg.WhatsApp
		if w == nil {
			return errors.New("WhatsApp is not configured: set WHATSAPP_ACCESS_TOKEN, WHATSAPP_WABA_ID and the other WHATSAPP_* variables " +
				"(under `switchback dev` there is nothing to sync: dev syncs the sandbox's templates at start)")
		}
		sc := templates.SyncConfig{APIURL: w.APIURL, WABAID: w.WABAID, AccessToken: w.AccessToken, PhoneNumberID: w.PhoneNumberID}
		n, err := templates.Sync(ctx, sc, reg)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "synced %d templates from WhatsApp Business Account %s into the store\n", n, w.WABAID)
		tier, err := templates.SyncTier(ctx, sc, st.SetNumberState, time.Now())
		if err != nil {
			return err
		}
		if tier != "" {
			fmt.Fprintf(e.stdout, "the number's messaging limit is %s\n", tier)
		}
		return nil
	case "list":
		ts, at, err := reg.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(ts)
		}
		if at.IsZero() {
			fmt.Fprintf(e.stdout, "no templates in the store: run `switchback templates sync` (`switchback dev` syncs the sandbox's at start)\n")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tLANGUAGE\tCATEGORY\tSTATUS\tQUALITY\tPARAMETERS")
		for _, t := range ts {
			q := t.Quality
			if q == "" {
				q = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Language, t.Category, t.Status, q, t.Params())
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("print templates: %w", err)
		}
		fmt.Fprintf(e.stdout, "%d templates, synced %s\n", len(ts), at.Local().Format("2006-01-02 15:04:05"))
		return nil
	}
	return &usageError{fmt.Sprintf("unknown templates command %q: give sync or list", pos[0])}
}
