package journeys

import (
	"fmt"

	"github.com/switchbackhq/switchback/internal/phone"
)

// CheckRecipient checks that to is a phone number in E.164 form, by the
// project's one rule (package phone): a plus sign, then phone.MinDigits
// to phone.MaxDigits digits, the first not zero.
func CheckRecipient(to string) error {
	if err := phone.Check(to); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	return nil
}
