package handlers

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
)

// auditField is how the audit page words one key of an event's summary.
type auditField struct {
	label string
	kind  int
}

// Kinds of summary values.
const (
	auditText  = iota
	auditMoney // minor units
	auditTime  // RFC 3339, UTC
	auditLimit // a count where 0 means no limit
	auditCount
	auditFormat // a code format as JSON
	auditExpiry // a series' expiry strategy
)

// auditFields are the keys events write as key=value, with their words.
var auditFields = map[string]auditField{
	"code": {"code", auditText}, "customer": {"customer", auditText}, "order": {"order", auditText},
	"items": {"items", auditCount}, "promotions": {"promotions", auditCount}, "promotion": {"promotion", auditText},
	"amount": {"order amount", auditMoney}, "discount": {"discount", auditMoney}, "cap": {"discount cap", auditMoney},
	"redeemedAt": {"recorded as of", auditTime}, "begins": {"starts", auditTime}, "ends": {"ends", auditTime},
	"name": {"name", auditText}, "status": {"status", auditText}, "kind": {"kind", auditText},
	"maxUsage": {"max uses", auditLimit}, "maxUsagePerClient": {"max uses per customer", auditLimit},
	"utmSource": {"UTM source", auditText}, "utmCampaign": {"UTM campaign", auditText},
	"series": {"series", auditText}, "source": {"issued through", auditText}, "scope": {"scope", auditText},
	"role": {"role", auditText}, "discountCode": {"discount code", auditText}, "expiry": {"codes end", auditExpiry},
	"days": {"days", auditCount}, "format": {"code format", auditFormat}, "maxCreate": {"max codes issued", auditLimit},
	"maxPerCustomer": {"max codes per customer", auditLimit}, "usesPerCode": {"uses per code", auditLimit},
	"id": {"id", auditText},
}

// auditChange words an event's summary for a marketer: the key=value
// pairs that events write (old and new events alike, since events are
// never edited) become labelled values, amounts in the store's currency,
// times in its zone, limits of 0 "unlimited"; text in words stays as it
// is, with its times in the store's zone.
func auditChange(t Terms, summary string) string {
	var lead []string
	var parts []string
	tokens := auditTokens(summary)
	for i := 0; i < len(tokens); i++ {
		key, value, pair := strings.Cut(tokens[i], "=")
		f, known := auditFields[key]
		if !pair || !known {
			word := auditWord(t, tokens[i])
			if len(parts) == 0 {
				lead = append(lead, word)
			} else {
				parts[len(parts)-1] += " " + word
			}
			continue
		}
		if uq, err := strconv.Unquote(value); err == nil {
			value = uq
		}
		// A promotion's discount is its value and its type.
		if key == "discount" && i+1 < len(tokens) && (tokens[i+1] == models.DiscountPercent || tokens[i+1] == models.DiscountFixed) {
			i++
			if tokens[i] == models.DiscountPercent {
				parts = append(parts, "discount "+value+" %")
				continue
			}
		}
		parts = append(parts, f.label+" "+auditValue(t, f.kind, value))
	}
	out := strings.Join(lead, " ")
	if len(parts) > 0 {
		if out != "" {
			out += ": "
		}
		out += strings.Join(parts, ", ")
	}
	return out
}

// auditValue writes one value of a kind.
func auditValue(t Terms, kind int, v string) string {
	if v == "—" || v == "" {
		return "none"
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case kind == auditMoney && err == nil:
		return t.Money(models.Money(n))
	case kind == auditLimit && err == nil && n == 0:
		return "unlimited"
	case (kind == auditLimit || kind == auditCount) && err == nil:
		return views.Thousands(n)
	case kind == auditExpiry && v == models.ExpiryWithSeries:
		return "with the series"
	case kind == auditExpiry && v == models.ExpiryDays:
		return "a number of days after issue"
	case kind == auditFormat:
		var in models.FormatInput
		if json.Unmarshal([]byte(v), &in) == nil {
			if f, err := in.Compile(); err == nil {
				return describeFormat(f)
			}
		}
	case kind == auditTime:
		if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.Time(at)
		}
	}
	return v
}

// auditWord is a word of a summary outside its pairs: a time in it is
// shown in the store's zone.
func auditWord(t Terms, w string) string {
	trimmed := strings.TrimRight(w, ",;")
	if at, err := time.Parse(time.RFC3339Nano, trimmed); err == nil && strings.ContainsRune(trimmed, 'T') {
		return t.Time(at) + w[len(trimmed):]
	}
	return w
}

// auditTokens splits a summary at spaces, keeping a quoted value ("…",
// with its escapes) in one token.
func auditTokens(s string) []string {
	var tokens []string
	var b strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				tokens = append(tokens, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		tokens = append(tokens, b.String())
	}
	return tokens
}
