package ingest

import (
	"sort"
	"sync"
	"time"

	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// columnSpec is what discovery needs to know about one column: the link
// texts that name it and whether its items matter one by one.
type columnSpec struct {
	key      string
	synonyms []string
	// items is true for columns whose obligations match items by title
	// (annual reports, budgets): every list page is read (up to
	// MaxListPages) and the items go into the observation.
	items bool
}

// homepageColumn is the locator column of the homepage-freshness
// obligation: the home page itself, not a column to look for.
const homepageColumn = "homepage"

// columnTable derives the columns to look for from the rule packs'
// locators, so that the column keys and synonyms live in one place (the
// packs) and the checker's keys and ingest's agree.
type columnTable struct {
	cat *obligation.Catalog
}

func newColumnTable(cat *obligation.Catalog) *columnTable {
	return &columnTable{cat: cat}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// For returns the columns to look for on agency a's website at now: those
// named by the locators of the obligations that apply to it then (so the
// synonyms of a legal text no longer in force do not reorder those of the
// one in force), plus any column the registry points at, sorted by key.
func (t *columnTable) For(a *registry.Agency, now time.Time) []columnSpec {
	byKey := map[string]*columnSpec{}
	var out []*columnSpec
	for _, o := range t.cat.Applicable(a.ObligationAgency(), now) {
		l := o.Locator
		if l.Column == "" || l.Column == homepageColumn {
			continue
		}
		c, ok := byKey[l.Column]
		if !ok {
			c = &columnSpec{key: l.Column}
			byKey[l.Column] = c
			out = append(out, c)
		}
		for _, syn := range l.Synonyms {
			if !containsString(c.synonyms, syn) {
				c.synonyms = append(c.synonyms, syn)
			}
		}
		if l.TitlePattern != "" && o.Period.Kind != obligation.Continuous {
			c.items = true
		}
	}
	for key := range a.Columns {
		if _, ok := byKey[key]; !ok {
			c := &columnSpec{key: key}
			byKey[key] = c
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	specs := make([]columnSpec, len(out))
	for i, c := range out {
		specs[i] = *c
	}
	return specs
}

// textCache remembers the hash of the text extracted from a document, by
// the document's hash (for a budget item, by the hashes of its documents,
// with the tables found): an unchanged report is not read again.
type textCache struct {
	mu  sync.Mutex
	max int
	m   map[string]textResult
}

type textResult struct {
	sum, err string
	budget   *budgetResult // for a budget item's documents
}

func newTextCache(max int) *textCache {
	return &textCache{max: max, m: map[string]textResult{}}
}

func (c *textCache) get(doc string) (textResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[doc]
	return r, ok
}

func (c *textCache) put(doc string, r textResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[doc]; !ok && len(c.m) >= c.max {
		for k := range c.m { // evict an arbitrary entry
			delete(c.m, k)
			break
		}
	}
	c.m[doc] = r
}
