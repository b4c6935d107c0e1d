package sandbox_test

import (
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/switchbackhq/switchback/sandbox"
)

// The magic recipients, as a Markdown table for a README.
func ExampleOutcomes() {
	fmt.Println("| Number | Name | WhatsApp | SMS |")
	fmt.Println("|---|---|---|---|")
	for _, o := range sandbox.Outcomes() {
		fmt.Printf("| %s | %s | %s | %s |\n", o.Number, o.Name, o.WhatsApp, o.SMS)
	}
	// Output:
	// | Number | Name | WhatsApp | SMS |
	// |---|---|---|---|
	// | +15551234567 | DefaultRecipient | accepted (HTTP 200); then sent, delivered, read | queued (HTTP 201); then sent, delivered |
	// | +15550000001 | WhatsAppUndeliverable | accepted (HTTP 200); then failed 131026 | queued (HTTP 201); then sent, delivered |
	// | +15550000002 | WhatsAppSilent | accepted (HTTP 200); then no status at all | queued (HTTP 201); then sent, delivered |
	// | +15550000003 | WhatsAppWindowClosed | refused (HTTP 400, error 131047) | queued (HTTP 201); then sent, delivered |
	// | +15550000004 | Unreachable | accepted (HTTP 200); then failed 131026 | queued (HTTP 201); then sent, undelivered 30003 |
	// | +15550000005 | WhatsAppRateLimited | refused (HTTP 400, error 130429) on the first send; later sends accepted (HTTP 200); then sent, delivered, read | queued (HTTP 201); then sent, delivered |
	// | +15550000006 | SMSInvalid | accepted (HTTP 200); then failed 131026 | refused (HTTP 400, error 21211) |
	// | +15550000007 | WhatsAppDeliveredLate | accepted (HTTP 200); then sent, delivered after LateDelay (default 45s) | queued (HTTP 201); then sent, delivered |
	// | +15550000008 | SMSRateLimited | accepted (HTTP 200); then sent, delivered, read | refused (HTTP 429, error 20429) on the first send; later sends queued (HTTP 201); then sent, delivered |
	// | +15550000009 | NoAnswer | no answer (until the client gives up) | no answer (until the client gives up) |
}

// Serving the lookalikes next to Switchback's webhooks. Point the WhatsApp
// client's base URL and twilio-go's HTTP client at srv.URL.
func ExampleNew() {
	sb, err := sandbox.New(sandbox.Config{
		WhatsAppWebhookURL: "http://127.0.0.1:8080/webhooks/whatsapp",
		AppSecret:          "app-secret",
		AccessToken:        "sandbox-token",
		PhoneNumberID:      "106540352242922",
		TwilioAccountSID:   "ACsandbox",
		TwilioAuthToken:    "sandboxtoken",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	fmt.Println("WhatsApp: POST", "/v23.0/106540352242922/messages")
	fmt.Println("Twilio:   POST", "/2010-04-01/Accounts/ACsandbox/Messages.json")
	// Output:
	// WhatsApp: POST /v23.0/106540352242922/messages
	// Twilio:   POST /2010-04-01/Accounts/ACsandbox/Messages.json
}

// The magic email recipients, as a Markdown table for a README.
func ExampleEmailOutcomes() {
	fmt.Println("| Address | Name | SendGrid |")
	fmt.Println("|---|---|---|")
	for _, o := range sandbox.EmailOutcomes() {
		fmt.Printf("| %s | %s | %s |\n", o.Address, o.Name, o.Email)
	}
	// Output:
	// | Address | Name | SendGrid |
	// |---|---|---|
	// | someone@example.com | EmailDefaultRecipient | accepted (HTTP 202); then processed, delivered, open |
	// | bounce@example.com | EmailBounce | accepted (HTTP 202); then processed, bounce |
	// | dropped@example.com | EmailDropped | accepted (HTTP 202); then dropped |
	// | silent@example.com | EmailSilent | accepted (HTTP 202); then processed |
	// | deferred@example.com | EmailDeferred | accepted (HTTP 202); then processed, deferred, delivered |
	// | spam@example.com | EmailSpamReport | accepted (HTTP 202); then processed, delivered, spamreport |
	// | unsubscribe@example.com | EmailUnsubscribe | accepted (HTTP 202); then processed, delivered, unsubscribe |
	// | ratelimited@example.com | EmailRateLimited | refused (HTTP 429) on the first send; later sends accepted (HTTP 202); then processed, delivered, open |
	// | rejected@example.com | EmailRejected | refused (HTTP 400) |
	// | noanswer@example.com | EmailNoAnswer | no answer (until the client gives up) |
}
