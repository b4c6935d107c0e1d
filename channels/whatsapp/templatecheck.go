package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/switchbackhq/switchback/channels"
)

// TemplateInfo is what the pre-send check needs to know of one registered
// template in one language.
type TemplateInfo struct {
	Name     string
	Language string // as Meta writes it, e.g. en_US
	Status   string // APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
	// HeaderFormat is TEXT, IMAGE, DOCUMENT, VIDEO, LOCATION, or "" for
	// no header; HeaderParams counts the parameters of a text header.
	HeaderFormat string
	HeaderParams int
	BodyParams   int
	// Buttons are the template's buttons, in index order.
	Buttons []ButtonInfo
}

// ButtonInfo is one button of a registered template.
type ButtonInfo struct {
	Type   string // QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, ...
	Params int    // parameters the send must give: 1 for a dynamic URL
}

// ErrNoTemplates is returned by a TemplateRegistry that holds no templates
// at all (it was never synced): the pre-send check is then skipped.
var ErrNoTemplates = errors.New("the template registry is empty")

// TemplateRegistry looks templates up before a send. Templates returns
// every language of the template name; none when it is not registered.
type TemplateRegistry interface {
	Templates(ctx context.Context, name string) ([]TemplateInfo, error)
}

// Codes of the SendErrors of the pre-send template check.
const (
	CodeTemplateNotFound        = "template_not_found"
	CodeTemplateLanguageMissing = "template_language_missing"
	CodeTemplateNotApproved     = "template_not_approved"
	CodeTemplateParamMismatch   = "template_param_mismatch"
)

// StatusApproved is the status of a template that can be sent.
const StatusApproved = "APPROVED"

// SameLanguage compares language codes as Meta writes them in the API
// (en_US) and in webhooks (en-US).
func SameLanguage(a, b string) bool {
	return strings.EqualFold(strings.ReplaceAll(a, "-", "_"), strings.ReplaceAll(b, "-", "_"))
}

// CheckTemplate checks t against the registry: the template must exist in
// t's language, be approved, and get as many parameters as it has. It
// returns a permanent SendError for a template bound to fail, and an
// error of the registry itself as is.
func CheckTemplate(ctx context.Context, reg TemplateRegistry, t *channels.Template) error {
	infos, err := reg.Templates(ctx, t.Name)
	if errors.Is(err, ErrNoTemplates) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up template %q: %w", t.Name, err)
	}
	if len(infos) == 0 {
		return templateError(CodeTemplateNotFound, fmt.Sprintf("template %q is not in the registry (run `switchback templates sync`; under `switchback dev` the registry holds the sandbox's templates, synced at start)", t.Name))
	}
	var info *TemplateInfo
	var langs []string
	for i := range infos {
		langs = append(langs, infos[i].Language)
		if SameLanguage(infos[i].Language, t.Language) {
			info = &infos[i]
		}
	}
	if info == nil {
		return templateError(CodeTemplateLanguageMissing, fmt.Sprintf("template %q has no %s translation (it has %s)", t.Name, t.Language, strings.Join(langs, ", ")))
	}
	if info.Status != StatusApproved {
		return templateError(CodeTemplateNotApproved, fmt.Sprintf("template %q (%s) is %s, not APPROVED", t.Name, info.Language, info.Status))
	}
	if problems := paramProblems(info, t); len(problems) > 0 {
		return templateError(CodeTemplateParamMismatch, fmt.Sprintf("template %q (%s): %s", t.Name, info.Language, strings.Join(problems, "; ")))
	}
	return nil
}

// paramProblems compares the parameters t gives with those info expects.
func paramProblems(info *TemplateInfo, t *channels.Template) []string {
	var ps []string
	switch hf := strings.ToUpper(info.HeaderFormat); {
	case hf == "TEXT" && info.HeaderParams > 0 && (t.Header == nil || t.Header.Text == ""):
		ps = append(ps, "its text header needs a parameter")
	case (hf == "" || hf == "TEXT" && info.HeaderParams == 0) && t.Header != nil:
		ps = append(ps, "it has no header parameter, the send gives one")
	case (hf == "IMAGE" || hf == "DOCUMENT" || hf == "VIDEO") && (t.Header == nil || t.Header.Media == nil || !strings.EqualFold(t.Header.Media.Kind, hf)):
		ps = append(ps, fmt.Sprintf("its %s header needs %s media", strings.ToLower(hf), strings.ToLower(hf)))
	}
	if len(t.Body) != info.BodyParams {
		ps = append(ps, fmt.Sprintf("body has %d parameters, the send gives %d", info.BodyParams, len(t.Body)))
	}
	given := map[int]bool{}
	for i := range t.ButtonURL {
		given[i] = true
	}
	for _, b := range t.Buttons {
		given[b.Index] = true
	}
	for i, b := range info.Buttons {
		switch {
		case b.Params > 0 && !given[i]:
			ps = append(ps, fmt.Sprintf("button %d (%s) needs a parameter", i, b.Type))
		case b.Params == 0 && given[i] && b.Type != "QUICK_REPLY":
			ps = append(ps, fmt.Sprintf("button %d (%s) takes no parameter", i, b.Type))
		}
		delete(given, i)
	}
	for _, i := range slices.Sorted(maps.Keys(given)) {
		ps = append(ps, fmt.Sprintf("the send gives button %d, the template has %d buttons", i, len(info.Buttons)))
	}
	return ps
}

func templateError(code, reason string) *channels.SendError {
	return sendError(code, reason, false, false, fmt.Errorf("template check: %s", reason))
}
