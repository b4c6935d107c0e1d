package webhooks

import "github.com/switchbackhq/switchback/store"

// Every store.Store is a webhooks Store.
var _ Store = store.Store(nil)
