// Package views renders the console: full pages built from exported
// fragments. Each fragment's root id is an exported constant shared with
// hx-target and with the handler that decides whether a request wants the
// fragment or the page. Views take plain view models and never reach the
// database or the clock.
package views

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// Fragment root ids.
const (
	CouponTableID  = "coupon-table"
	CouponFormID   = "coupon-form"
	GenerateFormID = "generate-form"
	CouponStatusID = "coupon-status"
	// CouponUsesID is the count of a coupon's uses on its page.
	CouponUsesID        = "coupon-uses"
	CouponPromotionsID  = "coupon-promotions"
	CouponRedemptionsID = "coupon-redemptions"
	SingleUseFormID     = "single-use-form"
	CheckFormID         = "check-form"
	CheckResultID       = "check-result"
	// GeneratePreviewID is the generation form's live preview: sample
	// codes, keyspace and guess odds.
	GeneratePreviewID = "generate-preview"
	// BatchTableID is the list of batches with its pager.
	BatchTableID = "batch-table"
	// BatchProgressID is a batch's status and progress bar, which polls
	// itself while the batch runs.
	BatchProgressID = "batch-progress"
	// BatchCodesID is the list of a batch's first codes.
	BatchCodesID = "batch-codes"
)

// CouponRowID is the id of a coupon's row in the coupon table.
func CouponRowID(id int64) string { return fmt.Sprintf("coupon-row-%d", id) }

// RedemptionRowID is the id of a redemption's row on its coupon's page.
func RedemptionRowID(id int64) string { return fmt.Sprintf("redemption-row-%d", id) }

// Page carries what every page needs: its title, the navigation section
// it belongs to, the CSRF token for its forms, and who is signed in.
type Page struct {
	Title   string
	Section string
	CSRF    string
	User    *SignedIn
	// Charts loads the chart library, for a page with figures marked
	// data-chart.
	Charts bool
	// Notice says what the change that led here did.
	Notice string
}

// SignedIn is the user a page is shown to.
type SignedIn struct {
	Email   string
	Role    string
	CanEdit bool
	IsAdmin bool
}

// CanEdit reports whether the page may show controls that change things.
func (p Page) CanEdit() bool { return p.User != nil && p.User.CanEdit }

// IsAdmin reports whether the page may show user and token management.
func (p Page) IsAdmin() bool { return p.User != nil && p.User.IsAdmin }

// Navigation sections.
const (
	SectionCoupons  = "coupons"
	SectionNew      = "new"
	SectionGenerate = "generate"
	// SectionBatches is the list of generation batches and their pages.
	SectionBatches = "batches"
	// SectionImport is the import of codes customers already hold.
	SectionImport = "import"
	// SectionImports is the list of imports and their pages.
	SectionImports = "imports"
	// SectionPromotions, SectionSingleUse and SectionCheck are the
	// promotion pages, the single-use coupon form and "Check a code".
	SectionPromotions = "promotions"
	SectionSingleUse  = "single-use"
	SectionCheck      = "check"
	SectionUsers      = "users"
	SectionTokens     = "tokens"
	SectionAudit      = "audit"
	SectionAccount    = "account"

	// SectionSeries is the coupon series and issuing their codes,
	// SectionCustomers the customers they were issued to.
	SectionSeries    = "series"
	SectionCustomers = "customers"
)

// CSRFField is the form field and CSRFHeader the header that carry the
// CSRF token.
const (
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// FlashID is the region at the top of every page where htmx puts the
// message of a failed request.
const FlashID = "flash"

// htmxConfig swaps 422 responses (forms re-rendered with their errors)
// into their target and every other error into the flash region, and keeps
// htmx from injecting inline styles or evaluating strings, so a strict CSP
// holds.
const htmxConfig = `{"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},{"code":"[45]..","swap":true,"error":true,"target":"#` + FlashID + `","swapOverride":"innerHTML"}],"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0}`

func hxHeaders(csrf string) string {
	b, _ := json.Marshal(map[string]string{CSRFHeader: csrf})
	return string(b)
}

// CouponURL is the path of a coupon's page.
func CouponURL(code string) string { return "/coupons/" + url.PathEscape(code) }

// RedemptionCancelURL is where a redemption's cancel button posts.
func RedemptionCancelURL(id int64) string { return fmt.Sprintf("/redemptions/%d/cancel", id) }

// SingleUseURL is the page of a single-use coupon just made, with its
// code ready to copy.
func SingleUseURL(code string) string { return "/single-use/" + url.PathEscape(code) }

// BatchURL is the path of a batch's page.
func BatchURL(id int64) string { return fmt.Sprintf("/batches/%d", id) }

// BatchCSVURL is the path of a batch's CSV download.
func BatchCSVURL(id int64) string { return fmt.Sprintf("/batches/%d/codes.csv", id) }

func ariaCurrent(p Page, section string) string {
	if p.Section == section {
		return "page"
	}
	return "false"
}

// groupCurrent is "page" when the page is in one of sections, for a menu
// of the navigation.
func groupCurrent(p Page, sections []string) string {
	for _, s := range sections {
		if p.Section == s {
			return "page"
		}
	}
	return "false"
}

func itoa(n int) string { return fmt.Sprint(n) }

// Thousands writes a count with a comma between each group of three
// digits: "100,000". Every count and every amount the console shows is
// grouped by it (amounts through handlers.Terms), so that the console
// groups digits one way.
func Thousands(n int64) string {
	if n < 0 {
		return "-" + GroupDigits(fmt.Sprint(-n))
	}
	return GroupDigits(fmt.Sprint(n))
}

// count is Thousands of an int, for templates.
func count(n int) string { return Thousands(int64(n)) }

// Counted writes n things in words a person reads: "1 coupon",
// "2,000 coupons"; plural is the thing's plural.
func Counted(n int64, one, plural string) string {
	if n == 1 {
		return "1 " + one
	}
	return Thousands(n) + " " + plural
}

// GroupDigits puts a comma between each group of three of the decimal
// digits; a number of more than 18 digits is written as "≈ 4.7 × 10^21"
// instead, which a person can read.
func GroupDigits(digits string) string {
	if len(digits) > 18 {
		return fmt.Sprintf("≈ %c.%c × 10^%d", digits[0], digits[1], len(digits)-1)
	}
	out := make([]byte, 0, len(digits)+len(digits)/3)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out)
}

// Store is what a page says about the store's terms: the currency its
// amounts are in, its decimals, an amount typed as a form takes it
// ("20.50") and shown ("1,234.50 EUR"), and the time zone its times are
// in.
type Store struct {
	Currency      string
	Decimals      int
	AmountExample string
	MoneyExample  string
	Zone          string
}

type storeKey struct{}

// WithStore returns ctx carrying the store's terms for the pages and
// fragments rendered with it.
func WithStore(ctx context.Context, s Store) context.Context {
	return context.WithValue(ctx, storeKey{}, s)
}

// StoreOf is the store's terms that ctx carries; USD and UTC when none.
func StoreOf(ctx context.Context) Store {
	if s, ok := ctx.Value(storeKey{}).(Store); ok {
		return s
	}
	return Store{Currency: "USD", Decimals: 2, AmountExample: "20.50", MoneyExample: "1,234.50 USD", Zone: "UTC"}
}

// amountHelp is the help of an amount field: what it is, then how to
// type it in the store's currency.
func amountHelp(ctx context.Context, what string) string {
	s := StoreOf(ctx)
	return what + " In " + s.Currency + ", such as " + s.AmountExample + "."
}

// timeHelp is the help of a time field: how it is read, then what it
// means.
func timeHelp(ctx context.Context, what string) string {
	return "In the store's time, " + StoreOf(ctx).Zone + ". " + what
}
