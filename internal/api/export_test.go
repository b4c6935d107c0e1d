package api

// Patterns returns the ServeMux pattern of every route New registers.
func Patterns() []string {
	var ps []string
	for _, rt := range routes() {
		ps = append(ps, rt.pattern)
	}
	return ps
}
