package sandbox

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// twilioPoolNumber is the sender the sandbox reports for sends made through
// a Messaging Service without a From number.
const twilioPoolNumber = "+15005550006"

// twilioError is the body of a Twilio REST API error.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// writeTwilioError writes a Twilio error body with the given HTTP status.
func writeTwilioError(w http.ResponseWriter, status, code int, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	w.Header().Set("Twilio-Request-Id", "RQ"+randomHex(16))
	writeJSON(w, status, twilioError{
		Code:     code,
		Message:  message,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		Status:   status,
	})
}

// twilioMessage is the Message resource, as Twilio answers a create.
// Pointers are JSON null when unset, as in Twilio's answers.
type twilioMessage struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// serveTwilio handles POST /2010-04-01/Accounts/{sid}/Messages.json.
func (s *Sandbox) serveTwilio(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok ||
		subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.TwilioAccountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.TwilioAuthToken)) != 1 {
		writeTwilioError(w, http.StatusUnauthorized, codeTwilioAuthenticate, "Authenticate")
		return
	}
	if sid := r.PathValue("sid"); sid != s.cfg.TwilioAccountSID {
		writeTwilioError(w, http.StatusNotFound, codeTwilioNotFound,
			fmt.Sprintf("The requested resource /2010-04-01/Accounts/%s/Messages.json was not found", sid))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, http.StatusBadRequest, codeTwilioBadRequest, "Bad request: "+err.Error())
		return
	}
	form := r.PostForm
	to, from, service := form.Get("To"), form.Get("From"), form.Get("MessagingServiceSid")
	body, callbackURL := form.Get("Body"), form.Get("StatusCallback")
	switch {
	case to == "":
		writeTwilioError(w, http.StatusBadRequest, codeTwilioToRequired, "A 'To' phone number is required.")
		return
	case from == "" && service == "":
		writeTwilioError(w, http.StatusBadRequest, codeTwilioFromRequired, "A 'From' phone number is required.")
		return
	case form.Get("ContentVariables") != "" && form.Get("ContentSid") == "":
		writeTwilioError(w, http.StatusBadRequest, codeTwilioContentSid,
			"A ContentSid must be specified if ContentVariables are provided.")
		return
	case body == "" && form.Get("ContentSid") == "" && form.Get("MediaUrl") == "":
		writeTwilioError(w, http.StatusBadRequest, codeTwilioBodyRequired, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > maxTwilioBodyLen:
		writeTwilioError(w, http.StatusBadRequest, codeTwilioBodyTooLong,
			"The concatenated message body exceeds the 1600 character limit.")
		return
	case callbackURL != "" && checkCallbackURL(callbackURL) != nil:
		writeTwilioError(w, http.StatusBadRequest, codeTwilioBadCallback,
			fmt.Sprintf("The StatusCallback URL %s is not a valid URL.", callbackURL))
		return
	}

	d := digits(to)
	rcpt := lookup(d)
	// WhatsApp through Twilio: whatsapp:+... addresses follow the
	// recipient's WhatsApp outcome, with Twilio's 63xxx codes.
	wa := strings.HasPrefix(to, twilioWhatsAppPrefix)
	rl, refuseKey := rcpt.sms, d
	if wa {
		rl, refuseKey = twilioWhatsAppRule(rcpt.whatsapp), twilioWhatsAppPrefix+d
		if from != "" && !strings.HasPrefix(from, twilioWhatsAppPrefix) {
			writeTwilioError(w, http.StatusBadRequest, codeTwilioNoChannel,
				fmt.Sprintf("Twilio could not find a Channel with the specified From address: %s", from))
			return
		}
	}
	if s.hang(rl, r) {
		return
	}
	if n := len(d); n < 8 || n > 15 || s.refuseOnce(rl, refuseKey) {
		status, code, message := http.StatusBadRequest, codeTwilioInvalidTo, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to)
		switch {
		case n >= 8 && n <= 15 && rl.refuse == codeTwilioWARateLimit:
			status, code, message = http.StatusTooManyRequests, rl.refuse, "Rate limit exceeded for Channel"
		case n >= 8 && n <= 15 && rl.refuse == codeTwilioTooMany:
			status, code, message = http.StatusTooManyRequests, rl.refuse, "Too Many Requests"
		case n >= 8 && n <= 15 && rl.refuse == codeTwilioWAWindow:
			code, message = rl.refuse, "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template."
		}
		writeTwilioError(w, status, code, message)
		s.log.Info("sandbox: message refused", "provider", ProviderTwilio, "to", maskPhone(to),
			"error_code", code, "outcome", rcpt.name)
		return
	}

	now := time.Now().UTC()
	m := SentMessage{
		Provider:       ProviderTwilio,
		ID:             "SM" + randomHex(16),
		To:             to,
		Type:           "sms",
		Body:           body,
		Template:       form.Get("ContentSid"),
		Outcome:        rcpt.name,
		Time:           now,
		StatusCallback: callbackURL,
	}
	sender := from
	if sender == "" {
		sender = twilioPoolNumber
	}
	if wa {
		m.Type = "text"
		if m.Template != "" {
			m.Type = "template"
		}
	}
	var run func(context.Context)
	if steps := rl.steps; len(steps) > 0 && callbackURL != "" {
		run = func(ctx context.Context) {
			s.runSteps(ctx, steps, func(st step) (callback, error) {
				return s.twilioCallback(m, sender, service, st), nil
			})
		}
	}
	if !s.accept(m, run) {
		writeTwilioError(w, http.StatusServiceUnavailable, codeTwilioUnavailable, "Service Unavailable")
		return
	}

	uri := "/2010-04-01/Accounts/" + s.cfg.TwilioAccountSID + "/Messages/" + m.ID
	msg := twilioMessage{
		AccountSID:      s.cfg.TwilioAccountSID,
		APIVersion:      "2010-04-01",
		Body:            body,
		DateCreated:     now.Format(time.RFC1123Z),
		DateUpdated:     now.Format(time.RFC1123Z),
		Direction:       "outbound-api",
		NumMedia:        strconv.Itoa(len(form["MediaUrl"])),
		NumSegments:     strconv.Itoa(segments(body)),
		PriceUnit:       "USD",
		SID:             m.ID,
		Status:          "queued",
		SubresourceURIs: map[string]string{"media": uri + "/Media.json"},
		To:              to,
		URI:             uri + ".json",
	}
	if from != "" {
		msg.From = &from
	}
	if service != "" {
		msg.MessagingServiceSID = &service
		msg.Status = "accepted" // Twilio's first status for Messaging Service sends
	}
	w.Header().Set("Twilio-Request-Id", "RQ"+randomHex(16))
	writeJSON(w, http.StatusCreated, msg)
}

// twilioCallback builds the signed status callback for st of message m.
func (s *Sandbox) twilioCallback(m SentMessage, from, service string, st step) callback {
	form := url.Values{
		"AccountSid":    {s.cfg.TwilioAccountSID},
		"ApiVersion":    {"2010-04-01"},
		"From":          {from},
		"MessageSid":    {m.ID},
		"MessageStatus": {st.status},
		"SmsSid":        {m.ID},
		"SmsStatus":     {st.status},
		"To":            {m.To},
	}
	if service != "" {
		form.Set("MessagingServiceSid", service)
	}
	if strings.HasPrefix(m.To, twilioWhatsAppPrefix) {
		form.Set("ChannelPrefix", "whatsapp")
	}
	if st.code != 0 {
		form.Set("ErrorCode", strconv.Itoa(st.code))
	}
	if st.status == "delivered" || st.status == "undelivered" {
		form.Set("RawDlrDoneDate", time.Now().UTC().Format("0601021504"))
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "TwilioProxy/1.1")
	h.Set("I-Twilio-Idempotency-Token", randomHex(16))
	h.Set("X-Twilio-Signature", TwilioSignature(s.cfg.TwilioAuthToken, m.StatusCallback, form))
	return callback{
		provider: ProviderTwilio,
		status:   st.status,
		id:       m.ID,
		url:      m.StatusCallback,
		body:     []byte(form.Encode()),
		header:   h,
	}
}

// twilioWhatsAppPrefix marks WhatsApp addresses in Twilio's To and From.
const twilioWhatsAppPrefix = "whatsapp:"

// twilioWhatsAppRule is r, a Cloud API rule, as Twilio reports it: Meta's
// error codes become Twilio's 63xxx ones (131047 window closed: 63016;
// 130429 rate limit: 63018; 131026 undeliverable: 63024, Twilio's
// "Invalid message recipient", assumed).
func twilioWhatsAppRule(r rule) rule {
	codes := map[int]int{codeWAReengagement: codeTwilioWAWindow, codeWARateLimit: codeTwilioWARateLimit, codeWAUndeliverable: codeTwilioWARecipient}
	if c, ok := codes[r.refuse]; ok {
		r.refuse = c
	}
	steps := make([]step, len(r.steps))
	for i, st := range r.steps {
		if c, ok := codes[st.code]; ok {
			st.code = c
		}
		steps[i] = st
	}
	r.steps = steps
	return r
}

// segments estimates how many SMS segments body takes: 160 characters in
// one segment or 153 per part for plain ASCII, 70 or 67 otherwise.
func segments(body string) int {
	single, part := 160, 153
	for i := range len(body) {
		if body[i] >= utf8.RuneSelf {
			single, part = 70, 67
			break
		}
	}
	n := utf8.RuneCountInString(body)
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}
