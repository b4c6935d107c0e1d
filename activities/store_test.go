package activities

import "github.com/switchbackhq/switchback/store"

// Every store.Store is an activities Store.
var _ Store = store.Store(nil)
