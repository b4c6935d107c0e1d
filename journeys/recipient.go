package journeys

import "fmt"

// CheckRecipient checks that to is a phone number in E.164 form: a plus
// sign, then 8 to 15 digits, the first not zero.
func CheckRecipient(to string) error {
	if len(to) < 9 || len(to) > 16 || to[0] != '+' || to[1] == '0' {
		return fmt.Errorf("recipient %q is not an E.164 phone number (e.g. +15551234567)", to)
	}
	for _, r := range to[1:] {
		if r < '0' || r > '9' {
			return fmt.Errorf("recipient %q is not an E.164 phone number (e.g. +15551234567): only digits may follow the +", to)
		}
	}
	return nil
}
