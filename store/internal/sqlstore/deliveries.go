package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchbackhq/switchback/store"
)

// Deliveries counts the journeys under a workflow id prefix by their
// events: one row per journey, through the index on workflow_id, compared
// bytewise so that the range is the prefix's whatever the collation.
func (s *Store) Deliveries(ctx context.Context, prefix string) (store.Deliveries, error) {
	upper, err := prefixEnd(prefix)
	if err != nil {
		return store.Deliveries{}, err
	}
	col := "workflow_id" + s.dialect.Bytewise
	q := `SELECT COALESCE(SUM(d), 0), COALESCE(SUM(CASE WHEN d = 0 AND f = 1 THEN 1 ELSE 0 END), 0) FROM (
		SELECT MAX(CASE WHEN status IN (?, ?) THEN 1 ELSE 0 END) AS d,
		       MAX(CASE WHEN status = ? THEN 1 ELSE 0 END) AS f
		FROM message_events WHERE ` + col + ` >= ? AND ` + col + ` < ?
		GROUP BY workflow_id) j`
	var d store.Deliveries
	err = s.queryRow(ctx, q, string(store.EventDelivered), string(store.EventRead), string(store.EventFailed), prefix, upper).
		Scan(&d.Delivered, &d.Failed)
	if err != nil {
		return store.Deliveries{}, fmt.Errorf("count deliveries under %q: %w", prefix, err)
	}
	return d, nil
}

// prefixEnd returns the least string greater than every string that starts
// with prefix, whose last byte must be printable ASCII below '~'.
func prefixEnd(prefix string) (string, error) {
	n := len(prefix)
	if n == 0 || prefix[n-1] < ' ' || prefix[n-1] >= '~' {
		return "", errors.New("count deliveries: the workflow id prefix must end in a printable ASCII character below '~'")
	}
	return prefix[:n-1] + string(prefix[n-1]+1), nil
}
