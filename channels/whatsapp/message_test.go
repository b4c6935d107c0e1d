package whatsapp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchbackhq/switchback/channels"
)

const envelope = `"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+16505551234", "biz_opaque_callback_data": "sb1:2:order-7"`

func TestSendMessageTypes(t *testing.T) {
	tests := []struct {
		name     string
		msg      channels.Message
		wantBody string // without the envelope
	}{
		{
			name: "template with image header, quick reply and url buttons",
			msg: channels.Message{Template: &channels.Template{
				Name: "order_shipped", Language: "en_US",
				Header: &channels.Header{Media: &channels.Media{Kind: channels.MediaImage, Link: "https://cdn.example.com/box.png"}},
				Body:   []string{"Ana", "A-17"},
				Buttons: []channels.TemplateButton{
					{Index: 1, Kind: channels.ButtonURL, Text: "A-17"},
					{Index: 0, Kind: channels.ButtonQuickReply, Payload: "STOP_UPDATES"},
				},
			}},
			wantBody: `"type": "template", "template": {"name": "order_shipped", "language": {"code": "en_US"}, "components": [
				{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/box.png"}}]},
				{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-17"}]},
				{"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "STOP_UPDATES"}]},
				{"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-17"}]}]}`,
		},
		{
			name: "template with text header",
			msg:  channels.Message{Template: &channels.Template{Name: "coupon", Language: "en", Header: &channels.Header{Text: "Pablo"}}},
			wantBody: `"type": "template", "template": {"name": "coupon", "language": {"code": "en"}, "components": [
				{"type": "header", "parameters": [{"type": "text", "text": "Pablo"}]}]}`,
		},
		{
			name: "template with document header",
			msg: channels.Message{Template: &channels.Template{Name: "invoice", Language: "en",
				Header: &channels.Header{Media: &channels.Media{Kind: channels.MediaDocument, ID: "1376223850470843", Filename: "invoice.pdf"}}}},
			wantBody: `"type": "template", "template": {"name": "invoice", "language": {"code": "en"}, "components": [
				{"type": "header", "parameters": [{"type": "document", "document": {"id": "1376223850470843", "filename": "invoice.pdf"}}]}]}`,
		},
		{
			name: "template with video header",
			msg: channels.Message{Template: &channels.Template{Name: "promo", Language: "en",
				Header: &channels.Header{Media: &channels.Media{Kind: channels.MediaVideo, ID: "55"}}}},
			wantBody: `"type": "template", "template": {"name": "promo", "language": {"code": "en"}, "components": [
				{"type": "header", "parameters": [{"type": "video", "video": {"id": "55"}}]}]}`,
		},
		{
			name:     "text in reply",
			msg:      channels.Message{Text: "It comes in green too.", ReplyTo: "wamid.IN1"},
			wantBody: `"type": "text", "context": {"message_id": "wamid.IN1"}, "text": {"body": "It comes in green too."}`,
		},
		{
			name:     "image by id with caption",
			msg:      channels.Message{Media: &channels.Media{Kind: channels.MediaImage, ID: "1479537139650973", Caption: "The best succulent ever?"}},
			wantBody: `"type": "image", "image": {"id": "1479537139650973", "caption": "The best succulent ever?"}`,
		},
		{
			name:     "document by link",
			msg:      channels.Message{Media: &channels.Media{Kind: channels.MediaDocument, Link: "https://example.com/o.pdf", Filename: "order_abc123.pdf", Caption: "Your order"}},
			wantBody: `"type": "document", "document": {"link": "https://example.com/o.pdf", "filename": "order_abc123.pdf", "caption": "Your order"}`,
		},
		{
			name:     "audio",
			msg:      channels.Message{Media: &channels.Media{Kind: channels.MediaAudio, ID: "77"}},
			wantBody: `"type": "audio", "audio": {"id": "77"}`,
		},
		{
			name:     "video",
			msg:      channels.Message{Media: &channels.Media{Kind: channels.MediaVideo, Link: "https://example.com/v.mp4"}},
			wantBody: `"type": "video", "video": {"link": "https://example.com/v.mp4"}`,
		},
		{
			name: "reply buttons with image header",
			msg: channels.Message{Interactive: &channels.Interactive{
				Kind:   channels.InteractiveButtons,
				Header: &channels.Header{Media: &channels.Media{Kind: channels.MediaImage, ID: "2762702990552401"}},
				Body:   "Your workshop is at 9am tomorrow.", Footer: "Lucky Shrub",
				Buttons: []channels.ReplyButton{{ID: "change-button", Title: "Change"}, {ID: "cancel-button", Title: "Cancel"}},
			}},
			wantBody: `"type": "interactive", "interactive": {"type": "button",
				"header": {"type": "image", "image": {"id": "2762702990552401"}},
				"body": {"text": "Your workshop is at 9am tomorrow."}, "footer": {"text": "Lucky Shrub"},
				"action": {"buttons": [{"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
					{"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}}]}}`,
		},
		{
			name: "list",
			msg: channels.Message{Interactive: &channels.Interactive{
				Kind: channels.InteractiveList, Header: &channels.Header{Text: "Shipping"}, Body: "Which option?",
				ListButton: "Options",
				Sections: []channels.ListSection{
					{Title: "Fast", Rows: []channels.ListRow{{ID: "express", Title: "Express", Description: "Next day"}}},
					{Title: "Cheap", Rows: []channels.ListRow{{ID: "ground", Title: "Ground"}}},
				},
			}},
			wantBody: `"type": "interactive", "interactive": {"type": "list", "header": {"type": "text", "text": "Shipping"},
				"body": {"text": "Which option?"}, "action": {"button": "Options", "sections": [
					{"title": "Fast", "rows": [{"id": "express", "title": "Express", "description": "Next day"}]},
					{"title": "Cheap", "rows": [{"id": "ground", "title": "Ground"}]}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graphAPI{status: http.StatusOK, body: okBody}
			c := newTestClient(t, g)
			tt.msg.To = "+1 650-555-1234"
			tt.msg.Correlation = channels.Correlation{WorkflowID: "order-7", Attempt: 2}
			if _, err := c.Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			assertJSONEqual(t, g.reqBody, "{"+envelope+", "+tt.wantBody+"}")
		})
	}
}

func TestSendInvalidMessageTypes(t *testing.T) {
	img := &channels.Media{Kind: channels.MediaImage, ID: "1"}
	buttons := func(n int) []channels.ReplyButton {
		var bs []channels.ReplyButton
		for i := range n {
			bs = append(bs, channels.ReplyButton{ID: string(rune('a' + i)), Title: string(rune('A' + i))})
		}
		return bs
	}
	rows := func(n int) []channels.ListRow {
		var rs []channels.ListRow
		for i := range n {
			rs = append(rs, channels.ListRow{ID: string(rune('a' + i)), Title: string(rune('A' + i))})
		}
		return rs
	}
	tests := []struct {
		name string
		msg  channels.Message
		want string // in the reason
	}{
		{"text and media", channels.Message{Text: "x", Media: img}, "exactly one"},
		{"template in reply", channels.Message{Template: &channels.Template{Name: "t", Language: "en"}, ReplyTo: "wamid.1"}, "cannot reply"},
		{"text too long", channels.Message{Text: strings.Repeat("x", 4097)}, "4096"},
		{"media without id or link", channels.Message{Media: &channels.Media{Kind: channels.MediaImage}}, "exactly one of a media id and a link"},
		{"media with id and link", channels.Message{Media: &channels.Media{Kind: channels.MediaImage, ID: "1", Link: "https://x.test/a"}}, "exactly one"},
		{"media link not a URL", channels.Message{Media: &channels.Media{Kind: channels.MediaVideo, Link: "video.mp4"}}, "not an absolute"},
		{"unknown media kind", channels.Message{Media: &channels.Media{Kind: "sticker", ID: "1"}}, "sticker"},
		{"audio caption", channels.Message{Media: &channels.Media{Kind: channels.MediaAudio, ID: "1", Caption: "hi"}}, "caption"},
		{"image filename", channels.Message{Media: &channels.Media{Kind: channels.MediaImage, ID: "1", Filename: "a.png"}}, "filename"},
		{"audio header", channels.Message{Template: &channels.Template{Name: "t", Language: "en", Header: &channels.Header{Media: &channels.Media{Kind: channels.MediaAudio, ID: "1"}}}}, "audio"},
		{"header text and media", channels.Message{Template: &channels.Template{Name: "t", Language: "en", Header: &channels.Header{Text: "a", Media: img}}}, "exactly one of text and media"},
		{"empty body parameter", channels.Message{Template: &channels.Template{Name: "t", Language: "en", Body: []string{"a", ""}}}, "parameter 2 is empty"},
		{"duplicate button index", channels.Message{Template: &channels.Template{Name: "t", Language: "en", ButtonURL: []string{"a"},
			Buttons: []channels.TemplateButton{{Index: 0, Kind: channels.ButtonQuickReply, Payload: "p"}}}}, "index 0 has two"},
		{"quick reply without payload", channels.Message{Template: &channels.Template{Name: "t", Language: "en",
			Buttons: []channels.TemplateButton{{Index: 0, Kind: channels.ButtonQuickReply}}}}, "no payload"},
		{"unknown button kind", channels.Message{Template: &channels.Template{Name: "t", Language: "en",
			Buttons: []channels.TemplateButton{{Index: 0, Kind: "call"}}}}, "call"},
		{"no interactive body", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveButtons, Buttons: buttons(1)}}, "no body"},
		{"four reply buttons", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveButtons, Body: "b", Buttons: buttons(4)}}, "4 reply buttons"},
		{"button title too long", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveButtons, Body: "b",
			Buttons: []channels.ReplyButton{{ID: "a", Title: strings.Repeat("t", 21)}}}}, "button title"},
		{"same button titles", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveButtons, Body: "b",
			Buttons: []channels.ReplyButton{{ID: "a", Title: "Yes"}, {ID: "b", Title: "Yes"}}}}, "two reply buttons"},
		{"list without button label", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveList, Body: "b",
			Sections: []channels.ListSection{{Rows: rows(1)}}}}, "label"},
		{"list with eleven rows", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveList, Body: "b", ListButton: "Go",
			Sections: []channels.ListSection{{Title: "a", Rows: rows(6)}, {Title: "b", Rows: rows(5)}}}}, "11 list rows"},
		{"untitled sections", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveList, Body: "b", ListButton: "Go",
			Sections: []channels.ListSection{{Rows: rows(1)}, {Rows: rows(1)}}}}, "needs a title"},
		{"list media header", channels.Message{Interactive: &channels.Interactive{Kind: channels.InteractiveList, Body: "b", ListButton: "Go",
			Header: &channels.Header{Media: img}, Sections: []channels.ListSection{{Rows: rows(1)}}}}, "only be text"},
		{"unknown interactive kind", channels.Message{Interactive: &channels.Interactive{Kind: "carousel", Body: "b"}}, "carousel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graphAPI{status: http.StatusOK, body: okBody}
			c := newTestClient(t, g)
			tt.msg.To = "+16505551234"
			_, err := c.Send(context.Background(), tt.msg)
			var se *channels.SendError
			if !errors.As(err, &se) || !se.Permanent || se.Code != "invalid_message" || !strings.Contains(se.Reason, tt.want) {
				t.Fatalf("error = %v, want a permanent invalid_message SendError about %q", err, tt.want)
			}
			if n := g.calls.Load(); n != 0 {
				t.Errorf("server got %d requests", n)
			}
		})
	}
}

func TestSendRejectsNonNumbersBeforeAnyCall(t *testing.T) {
	for _, to := range []string{"", "ana@example.com", "(650) 555-1234", "+1555"} {
		g := &graphAPI{status: http.StatusOK, body: okBody}
		c := newTestClient(t, g)
		_, err := c.Send(context.Background(), channels.Message{To: to, Text: "hi"})
		var se *channels.SendError
		if !errors.As(err, &se) || !se.Permanent || se.Code != "invalid_recipient" || !errors.Is(err, ErrInvalidRecipient) {
			t.Errorf("to %q: error = %v, want a permanent invalid_recipient SendError", to, err)
		}
		if n := g.calls.Load(); n != 0 {
			t.Errorf("to %q: server got %d requests", to, n)
		}
	}
}

// A send that reached the API but got no answer has an unknown outcome.
func TestSendUnknownOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c, err := NewClient(Config{APIURL: srv.URL, PhoneNumberID: "1", AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), channels.Message{To: "+16505551234", Text: "hi"})
	if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
		t.Fatalf("error = %v, want an unknown-outcome SendError", err)
	}
}

func TestSendRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header string
		body   string
		want   time.Duration
	}{
		{"throughput with Retry-After", 400, "4", graphError(130429, "OAuthException", "(#130429) Rate limit hit", "throughput"), 4 * time.Second},
		{"throughput without", 400, "", graphError(130429, "OAuthException", "(#130429) Rate limit hit", "throughput"), 0},
		{"pair rate limit", 400, "", graphError(131056, "OAuthException", "(#131056) Pair rate limit hit", "too many"), 6 * time.Second},
		{"429 with Retry-After", 429, "2", "", 2 * time.Second},
		{"permanent ignores Retry-After", 400, "9", graphError(131026, "OAuthException", "(#131026) Undeliverable", "x"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c, err := NewClient(Config{APIURL: srv.URL, PhoneNumberID: "1", AccessToken: "t"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Send(context.Background(), channels.Message{To: "+16505551234", Text: "hi"})
			if got := channels.RetryDelay(err); got != tt.want {
				t.Errorf("RetryDelay = %v, want %v (error %v)", got, tt.want, err)
			}
		})
	}
}
