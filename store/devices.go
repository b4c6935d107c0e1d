package store

import (
	"errors"
	"time"
)

// DeviceToken is the push token of one of a contact's app installs: the
// address of a channel whose address is channels.AddressDevice.
type DeviceToken struct {
	Token string `json:"token"`
	// AddedAt is when the token was last added (given at a start,
	// imported).
	AddedAt time.Time `json:"added_at"`
}

// CheckDeviceTokens reports what is wrong with a contact's tokens to add.
func CheckDeviceTokens(contactKey string, tokens []string) error {
	if contactKey == "" {
		return errors.New("empty contact key")
	}
	for _, t := range tokens {
		if t == "" {
			return errors.New("empty device token")
		}
	}
	return nil
}
