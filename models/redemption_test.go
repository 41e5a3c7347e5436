package models

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ruleNow is the fixed clock of the pure rule tests.
var ruleNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// rulePromotion is an active, undated, unlimited 10 % promotion listening
// to the UTM source "spring", changed by each of mods.
func rulePromotion(id int64, mods ...func(*Promotion)) Promotion {
	p := Promotion{ID: id, Name: fmt.Sprint("P", id), Status: PromotionActive, Kind: KindRegular,
		DiscountType: DiscountPercent, DiscountValue: 1000, AppliesTo: AppliesToBill, UTMSource: ptr("spring")}
	for _, m := range mods {
		m(&p)
	}
	return p
}

// ruleCoupon is an unlimited coupon carrying the UTM source "Spring",
// changed by each of mods.
func ruleCoupon(mods ...func(*Coupon)) *Coupon {
	c := &Coupon{ID: 1, Code: "SPRING", UTMSource: ptr("Spring")}
	for _, m := range mods {
		m(c)
	}
	return c
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) *time.Time { v := ruleNow.Add(d); return &v }
	alice := Attempt{CustomerID: "alice", Items: 1, Now: ruleNow}
	anonymous := Attempt{Items: 1, Now: ruleNow}
	tests := []struct {
		name       string
		coupon     *Coupon
		promotions []Promotion
		usage      Usage
		attempt    Attempt
		// wantReasons nil means valid; wantApplied lists the ids of the
		// promotions a valid verdict applies.
		wantReasons []string
		wantApplied []int64
	}{
		{name: "unknown code", coupon: nil, promotions: []Promotion{rulePromotion(1)}, attempt: alice, wantReasons: []string{ReasonNotFound}},
		{name: "plain use", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1)}, attempt: alice, wantApplied: []int64{1}},
		{name: "archived", coupon: ruleCoupon(func(c *Coupon) { c.Archived = true }), promotions: []Promotion{rulePromotion(1)}, attempt: alice,
			wantReasons: []string{ReasonArchived}},

		{name: "no promotion at all", coupon: ruleCoupon(), attempt: alice, wantReasons: []string{ReasonNoActivePromotion}},
		{name: "coupon without tags reaches nothing", coupon: ruleCoupon(func(c *Coupon) { c.UTMSource = nil }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantReasons: []string{ReasonNoActivePromotion}},
		{name: "promotion on another tag", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.UTMSource = ptr("autumn") })},
			attempt: alice, wantReasons: []string{ReasonNoActivePromotion}},
		{name: "inactive promotion", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.Status = PromotionInactive })},
			attempt: alice, wantReasons: []string{ReasonNoActivePromotion}},
		{name: "archived promotion", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.Status = PromotionArchived })},
			attempt: alice, wantReasons: []string{ReasonNoActivePromotion}},
		{name: "reached by campaign ignoring case", coupon: ruleCoupon(func(c *Coupon) { c.UTMSource, c.UTMCampaign = nil, ptr("XMAS") }),
			promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.UTMSource, p.UTMCampaign = nil, ptr("xmas") })},
			attempt:    alice, wantApplied: []int64{1}},
		{name: "an inactive promotion is not a reason beside an expired one", coupon: ruleCoupon(),
			promotions: []Promotion{
				rulePromotion(1, func(p *Promotion) { p.Status = PromotionInactive }),
				rulePromotion(2, func(p *Promotion) { p.EndsAt = at(-time.Hour) }),
			},
			attempt: alice, wantReasons: []string{ReasonExpired}},

		{name: "begins a nanosecond from now", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.BeginsAt = at(time.Nanosecond) })},
			attempt: alice, wantReasons: []string{ReasonNotStarted}},
		{name: "begins exactly now", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.BeginsAt = at(0) })},
			attempt: alice, wantApplied: []int64{1}},
		{name: "ends a nanosecond from now", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.EndsAt = at(time.Nanosecond) })},
			attempt: alice, wantApplied: []int64{1}},
		{name: "ends exactly now", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.EndsAt = at(0) })},
			attempt: alice, wantReasons: []string{ReasonExpired}},
		{name: "ended long ago", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.BeginsAt, p.EndsAt = at(-48*time.Hour), at(-24*time.Hour) })},
			attempt: alice, wantReasons: []string{ReasonExpired}},
		{name: "inside both dates", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.BeginsAt, p.EndsAt = at(-time.Hour), at(time.Hour) })},
			attempt: alice, wantApplied: []int64{1}},

		{name: "one use left", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsage, c.Uses = 5, 4 }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantApplied: []int64{1}},
		{name: "uses at the limit", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsage, c.Uses = 5, 5 }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantReasons: []string{ReasonUsageLimit}},
		{name: "limit lowered below the uses", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsage, c.Uses = 2, 7 }), promotions: []Promotion{rulePromotion(1)},
			attempt: anonymous, wantReasons: []string{ReasonUsageLimit}},
		{name: "no usage limit", coupon: ruleCoupon(func(c *Coupon) { c.Uses = 1_000_000 }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantApplied: []int64{1}},

		{name: "customer has one use left", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsagePerClient = 2 }), promotions: []Promotion{rulePromotion(1)},
			usage: Usage{CustomerUses: 1}, attempt: alice, wantApplied: []int64{1}},
		{name: "customer at the limit", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsagePerClient = 2 }), promotions: []Promotion{rulePromotion(1)},
			usage: Usage{CustomerUses: 2}, attempt: alice, wantReasons: []string{ReasonCustomerLimit}},
		{name: "customer limit not checked without a customer", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsagePerClient = 1 }), promotions: []Promotion{rulePromotion(1)},
			usage: Usage{CustomerUses: 5}, attempt: anonymous, wantApplied: []int64{1}},

		{name: "items up to the limit", coupon: ruleCoupon(func(c *Coupon) { c.MaxItemsPerClient = 5 }), promotions: []Promotion{rulePromotion(1)},
			usage: Usage{CustomerItems: 3}, attempt: Attempt{CustomerID: "alice", Items: 2, Now: ruleNow}, wantApplied: []int64{1}},
		{name: "items one past the limit", coupon: ruleCoupon(func(c *Coupon) { c.MaxItemsPerClient = 5 }), promotions: []Promotion{rulePromotion(1)},
			usage: Usage{CustomerItems: 3}, attempt: Attempt{CustomerID: "alice", Items: 3, Now: ruleNow}, wantReasons: []string{ReasonItemsLimit}},
		{name: "first order alone over the items limit", coupon: ruleCoupon(func(c *Coupon) { c.MaxItemsPerClient = 5 }), promotions: []Promotion{rulePromotion(1)},
			attempt: Attempt{CustomerID: "alice", Items: 6, Now: ruleNow}, wantReasons: []string{ReasonItemsLimit}},
		{name: "an order over the items limit without a customer", coupon: ruleCoupon(func(c *Coupon) { c.MaxItemsPerClient = 5 }), promotions: []Promotion{rulePromotion(1)},
			attempt: Attempt{Items: 6, Now: ruleNow}, wantReasons: []string{ReasonItemsLimit}},
		{name: "an order within the items limit without a customer", coupon: ruleCoupon(func(c *Coupon) { c.MaxItemsPerClient = 5 }), promotions: []Promotion{rulePromotion(1)},
			attempt: Attempt{Items: 5, Now: ruleNow}, wantApplied: []int64{1}},

		{name: "promotion has one use left", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.MaxUsage, p.Uses = 3, 2 })},
			attempt: alice, wantApplied: []int64{1}},
		{name: "promotion at its limit", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.MaxUsage, p.Uses = 3, 3 })},
			attempt: anonymous, wantReasons: []string{ReasonPromotionUsageLimit}},
		{name: "customer at the promotion's limit", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.MaxUsagePerClient = 1 })},
			usage: Usage{PromotionCustomerUses: map[int64]int{1: 1}}, attempt: alice, wantReasons: []string{ReasonPromotionCustomerLimit}},
		{name: "uses of another promotion do not count", coupon: ruleCoupon(), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.MaxUsagePerClient = 1 })},
			usage: Usage{PromotionCustomerUses: map[int64]int{2: 9}}, attempt: alice, wantApplied: []int64{1}},
		{name: "promotion customer limit not checked without a customer", coupon: ruleCoupon(),
			promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.MaxUsagePerClient = 1 })},
			usage:      Usage{PromotionCustomerUses: map[int64]int{1: 1}}, attempt: anonymous, wantApplied: []int64{1}},

		{name: "another customer's code", coupon: ruleCoupon(func(c *Coupon) { c.CustomerID = ptr("bob") }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantReasons: []string{ReasonNotForCustomer}},
		{name: "the customer's own code", coupon: ruleCoupon(func(c *Coupon) { c.CustomerID = ptr("alice") }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantApplied: []int64{1}},
		{name: "customer ids compare exactly", coupon: ruleCoupon(func(c *Coupon) { c.CustomerID = ptr("Alice") }), promotions: []Promotion{rulePromotion(1)},
			attempt: alice, wantReasons: []string{ReasonNotForCustomer}},

		{name: "one promotion fails, another applies", coupon: ruleCoupon(),
			promotions: []Promotion{
				rulePromotion(1, func(p *Promotion) { p.EndsAt = at(0) }),
				rulePromotion(2),
				rulePromotion(3, func(p *Promotion) { p.MaxUsage, p.Uses = 1, 1 }),
				rulePromotion(4, func(p *Promotion) { p.UTMSource, p.UTMCampaign = nil, ptr("spring") }),
			},
			attempt: alice, wantApplied: []int64{2}},
		{name: "every promotion fails, each for its reason, in the fixed order", coupon: ruleCoupon(),
			promotions: []Promotion{
				rulePromotion(1, func(p *Promotion) { p.MaxUsagePerClient = 1 }),
				rulePromotion(2, func(p *Promotion) { p.MaxUsage, p.Uses = 1, 1 }),
				rulePromotion(3, func(p *Promotion) { p.EndsAt = at(-time.Second) }),
				rulePromotion(4, func(p *Promotion) { p.BeginsAt = at(time.Second) }),
			},
			usage:       Usage{PromotionCustomerUses: map[int64]int{1: 1}},
			attempt:     alice,
			wantReasons: []string{ReasonNotStarted, ReasonExpired, ReasonPromotionUsageLimit, ReasonPromotionCustomerLimit}},
		{name: "a date reason comes before the promotion's limits", coupon: ruleCoupon(),
			promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.EndsAt, p.MaxUsage, p.Uses = at(0), 1, 1 })},
			attempt:    alice, wantReasons: []string{ReasonExpired}},
		{name: "every coupon rule at once, in the fixed order", coupon: ruleCoupon(func(c *Coupon) {
			c.Archived, c.MaxUsage, c.Uses, c.MaxUsagePerClient, c.MaxItemsPerClient, c.CustomerID = true, 1, 1, 1, 1, ptr("bob")
		}), promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.BeginsAt = at(time.Hour) })},
			usage: Usage{CustomerUses: 1, CustomerItems: 1}, attempt: alice,
			wantReasons: []string{ReasonArchived, ReasonNotStarted, ReasonUsageLimit, ReasonCustomerLimit, ReasonItemsLimit, ReasonNotForCustomer}},
		{name: "coupon rules with no promotion reached", coupon: ruleCoupon(func(c *Coupon) { c.Archived, c.MaxUsage, c.Uses = true, 1, 1 }),
			attempt: alice, wantReasons: []string{ReasonArchived, ReasonNoActivePromotion, ReasonUsageLimit}},
		{name: "a failing promotion is not reported when another applies", coupon: ruleCoupon(func(c *Coupon) { c.MaxUsage, c.Uses = 1, 1 }),
			promotions: []Promotion{rulePromotion(1, func(p *Promotion) { p.EndsAt = at(0) }), rulePromotion(2)},
			attempt:    alice, wantReasons: []string{ReasonUsageLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Evaluate(tt.coupon, tt.promotions, tt.usage, tt.attempt)
			if tt.wantReasons != nil {
				if v.Valid || len(v.Promotions) != 0 || v.Discount != nil {
					t.Errorf("verdict = %+v, want not valid, with no promotions and no discount", v)
				}
				if d := cmp.Diff(tt.wantReasons, v.Reasons); d != "" {
					t.Errorf("reasons (-want +got):\n%s", d)
				}
				return
			}
			if !v.Valid || v.Reasons == nil || len(v.Reasons) != 0 {
				t.Fatalf("verdict = %+v, want valid with an empty, non-nil list of reasons", v)
			}
			var applied []int64
			for _, ap := range v.Promotions {
				applied = append(applied, ap.Promotion.ID)
			}
			if d := cmp.Diff(tt.wantApplied, applied); d != "" {
				t.Errorf("applied promotions (-want +got):\n%s", d)
			}
		})
	}
}

// TestEvaluateReportsReasonsInTheDocumentedOrder checks that a verdict
// lists its reasons in the order of Reasons whatever order the rules and
// promotions are met in, for every pair of reasons that can come
// together.
func TestEvaluateReportsReasonsInTheDocumentedOrder(t *testing.T) {
	t.Parallel()
	rank := map[string]int{}
	for i, r := range Reasons {
		rank[r] = i
	}
	if len(rank) != 11 {
		t.Fatalf("Reasons lists %d distinct reasons, want the 11 reason codes", len(rank))
	}
	at := func(d time.Duration) *time.Time { v := ruleNow.Add(d); return &v }
	v := Evaluate(ruleCoupon(func(c *Coupon) {
		c.Archived, c.MaxUsage, c.Uses, c.MaxUsagePerClient, c.MaxItemsPerClient, c.CustomerID = true, 1, 1, 1, 1, ptr("bob")
	}), []Promotion{
		rulePromotion(9, func(p *Promotion) { p.MaxUsagePerClient = 1 }),
		rulePromotion(8, func(p *Promotion) { p.MaxUsage, p.Uses = 1, 1 }),
		rulePromotion(7, func(p *Promotion) { p.EndsAt = at(0) }),
		rulePromotion(6, func(p *Promotion) { p.BeginsAt = at(time.Minute) }),
	}, Usage{CustomerUses: 1, CustomerItems: 1, PromotionCustomerUses: map[int64]int{9: 1}}, Attempt{CustomerID: "alice", Items: 1, Now: ruleNow})
	want := []string{ReasonArchived, ReasonNotStarted, ReasonExpired, ReasonUsageLimit, ReasonCustomerLimit, ReasonItemsLimit,
		ReasonPromotionUsageLimit, ReasonPromotionCustomerLimit, ReasonNotForCustomer}
	if d := cmp.Diff(want, v.Reasons); d != "" {
		t.Fatalf("reasons (-want +got):\n%s", d)
	}
	for i := 1; i < len(v.Reasons); i++ {
		if rank[v.Reasons[i-1]] >= rank[v.Reasons[i]] {
			t.Errorf("%s is listed before %s, against the order of Reasons", v.Reasons[i-1], v.Reasons[i])
		}
	}
}

func TestEvaluateDiscount(t *testing.T) {
	t.Parallel()
	percent := func(bp int64) func(*Promotion) {
		return func(p *Promotion) { p.DiscountType, p.DiscountValue = DiscountPercent, bp }
	}
	fixed := func(v int64) func(*Promotion) {
		return func(p *Promotion) { p.DiscountType, p.DiscountValue = DiscountFixed, v }
	}
	capped := func(v int64) func(*Promotion) { return func(p *Promotion) { p.DiscountCap = &v } }
	many := func(n int, mods ...func(*Promotion)) []Promotion {
		ps := make([]Promotion, n)
		for i := range ps {
			ps[i] = rulePromotion(int64(i+1), mods...)
		}
		return ps
	}
	tests := []struct {
		name       string
		promotions []Promotion
		amount     *int64
		// want is the verdict's total; wantEach the discount of each
		// applied promotion, in order.
		want     *int64
		wantEach []*int64
	}{
		{name: "no amount, no discount", promotions: []Promotion{rulePromotion(1)}, amount: nil, want: nil, wantEach: []*int64{nil}},
		{name: "one percentage", promotions: []Promotion{rulePromotion(1)}, amount: ptr(int64(5000)), want: ptr(int64(500)), wantEach: []*int64{ptr(int64(500))}},
		{name: "a percentage and a fixed amount add up", promotions: []Promotion{rulePromotion(1, percent(1250)), rulePromotion(2, fixed(300))},
			amount: ptr(int64(1000)), want: ptr(int64(425)), wantEach: []*int64{ptr(int64(125)), ptr(int64(300))}},
		{name: "several promotions summing past the amount take the amount", promotions: []Promotion{rulePromotion(1, percent(6000)), rulePromotion(2, fixed(700))},
			amount: ptr(int64(1000)), want: ptr(int64(1000)), wantEach: []*int64{ptr(int64(600)), ptr(int64(700))}},
		{name: "zero amount", promotions: []Promotion{rulePromotion(1), rulePromotion(2, fixed(500))}, amount: ptr(int64(0)),
			want: ptr(int64(0)), wantEach: []*int64{ptr(int64(0)), ptr(int64(0))}},
		{name: "every promotion at 100 % of the largest amount", promotions: many(3, percent(MaxBasisPoints)), amount: ptr(int64(MaxAmount)),
			want: ptr(int64(MaxAmount)), wantEach: []*int64{ptr(int64(MaxAmount)), ptr(int64(MaxAmount)), ptr(int64(MaxAmount))}},
		{name: "the largest fixed amounts on the largest amount", promotions: many(2, fixed(MaxAmount), capped(MaxAmount)), amount: ptr(int64(MaxAmount)),
			want: ptr(int64(MaxAmount)), wantEach: []*int64{ptr(int64(MaxAmount)), ptr(int64(MaxAmount))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Evaluate(ruleCoupon(), tt.promotions, Usage{}, Attempt{CustomerID: "alice", Items: 1, OrderAmount: tt.amount, Now: ruleNow})
			if !v.Valid {
				t.Fatalf("verdict = %+v, want valid", v)
			}
			if d := cmp.Diff(tt.want, v.Discount); d != "" {
				t.Errorf("total discount (-want +got):\n%s", d)
			}
			var each []*int64
			for _, ap := range v.Promotions {
				each = append(each, ap.Discount)
			}
			if d := cmp.Diff(tt.wantEach, each); d != "" {
				t.Errorf("discount of each promotion (-want +got):\n%s", d)
			}
		})
	}
	t.Run("thousands of promotions on the largest amount", func(t *testing.T) {
		t.Parallel()
		// Enough whole-amount discounts that their plain sum passes the
		// largest int64.
		v := Evaluate(ruleCoupon(), many(10_000, fixed(MaxAmount)), Usage{}, Attempt{Items: 1, OrderAmount: ptr(int64(MaxAmount)), Now: ruleNow})
		if !v.Valid || v.Discount == nil || *v.Discount != MaxAmount {
			t.Fatalf("discount = %v (valid %v), want the whole amount %d", derefOr(v.Discount), v.Valid, int64(MaxAmount))
		}
	})
}

func derefOr(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestPromotionDiscount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		typ    string
		value  int64
		cap    *int64
		amount int64
		want   int64
	}{
		{name: "10 % of 50.00", typ: DiscountPercent, value: 1000, amount: 5000, want: 500},
		{name: "12.5 % of 4: a half rounds up", typ: DiscountPercent, value: 1250, amount: 4, want: 1},
		{name: "12.5 % of 3: under a half rounds down", typ: DiscountPercent, value: 1250, amount: 3, want: 0},
		{name: "15 % of 10: 1.5 rounds up", typ: DiscountPercent, value: 1500, amount: 10, want: 2},
		{name: "0.01 % of 5000: exactly a half", typ: DiscountPercent, value: 1, amount: 5000, want: 1},
		{name: "0.01 % of 4999: just under a half", typ: DiscountPercent, value: 1, amount: 4999, want: 0},
		{name: "0.01 % of 15000: 1.5 rounds up", typ: DiscountPercent, value: 1, amount: 15000, want: 2},
		{name: "33.33 % of 100", typ: DiscountPercent, value: 3333, amount: 100, want: 33},
		{name: "66.67 % of 100", typ: DiscountPercent, value: 6667, amount: 100, want: 67},
		{name: "100 % of 1", typ: DiscountPercent, value: 10000, amount: 1, want: 1},
		{name: "percentage held to the cap", typ: DiscountPercent, value: 1000, cap: ptr(int64(300)), amount: 5000, want: 300},
		{name: "percentage exactly at the cap", typ: DiscountPercent, value: 1000, cap: ptr(int64(500)), amount: 5000, want: 500},
		{name: "percentage under the cap", typ: DiscountPercent, value: 1000, cap: ptr(int64(501)), amount: 5000, want: 500},
		{name: "rounded up past the cap is held to it", typ: DiscountPercent, value: 1250, cap: ptr(int64(1)), amount: 12, want: 1},
		{name: "fixed under the amount", typ: DiscountFixed, value: 500, amount: 5000, want: 500},
		{name: "fixed equal to the amount", typ: DiscountFixed, value: 5000, amount: 5000, want: 5000},
		{name: "fixed larger than the amount", typ: DiscountFixed, value: 6000, amount: 5000, want: 5000},
		{name: "percent of a zero amount", typ: DiscountPercent, value: 10000, amount: 0, want: 0},
		{name: "fixed on a zero amount", typ: DiscountFixed, value: 500, amount: 0, want: 0},
		{name: "a negative amount", typ: DiscountFixed, value: 500, amount: -5, want: 0},
		{name: "100 % of the largest amount", typ: DiscountPercent, value: MaxBasisPoints, amount: MaxAmount, want: MaxAmount},
		{name: "99.99 % of the largest amount", typ: DiscountPercent, value: 9999, amount: MaxAmount, want: MaxAmount / 10_000 * 9999},
		{name: "12.5 % of the largest amount less one rounds up", typ: DiscountPercent, value: 1250, amount: MaxAmount - 1, want: MaxAmount / 8},
		{name: "0.01 % of the largest amount", typ: DiscountPercent, value: 1, amount: MaxAmount, want: MaxAmount / 10_000},
		{name: "50 % of the largest odd amount below the largest", typ: DiscountPercent, value: 5000, amount: MaxAmount - 1, want: MaxAmount / 2},
		{name: "100 % of the largest amount held to a cap", typ: DiscountPercent, value: MaxBasisPoints, cap: ptr(int64(MaxAmount - 1)), amount: MaxAmount, want: MaxAmount - 1},
		{name: "the largest fixed amount on the largest amount", typ: DiscountFixed, value: MaxAmount, amount: MaxAmount, want: MaxAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Promotion{DiscountType: tt.typ, DiscountValue: tt.value, DiscountCap: tt.cap}
			if got := p.Discount(tt.amount); got != tt.want {
				t.Errorf("Discount(%d) of %s %d cap %v = %d, want %d", tt.amount, tt.typ, tt.value, derefOr(tt.cap), got, tt.want)
			}
		})
	}
	t.Run("every percentage of every amount near the largest stays in range", func(t *testing.T) {
		t.Parallel()
		for _, amount := range []int64{MaxAmount, MaxAmount - 1, MaxAmount - 4999, MaxAmount - 5000, 922_337_203_685_478, 1 << 49} {
			for bp := int64(1); bp <= MaxBasisPoints; bp++ {
				p := Promotion{DiscountType: DiscountPercent, DiscountValue: bp}
				got := p.Discount(amount)
				// amount·bp/10,000 rounded half up, from the quotient and
				// remainder so that the reference itself cannot overflow.
				q, r := amount/MaxBasisPoints, amount%MaxBasisPoints
				want := q*bp + (r*bp+MaxBasisPoints/2)/MaxBasisPoints
				if got != want {
					t.Fatalf("Discount(%d) at %d bp = %d, want %d", amount, bp, got, want)
				}
			}
		}
	})
}

func TestDiscountValueRoundTrip(t *testing.T) {
	t.Parallel()
	t.Run("every percentage from 0.01 to 100", func(t *testing.T) {
		t.Parallel()
		for bp := int64(1); bp <= MaxBasisPoints; bp++ {
			s := FormatDiscountValue(DiscountPercent, bp)
			got, err := ParseDiscountValue(DiscountPercent, s)
			if err != nil || got != bp {
				t.Fatalf("%d bp formats as %q, which parses as %d, %v", bp, s, got, err)
			}
		}
	})
	t.Run("fixed amounts", func(t *testing.T) {
		t.Parallel()
		for _, v := range []int64{1, 9, 10, 500, 1000, 123456789, MaxAmount} {
			s := FormatDiscountValue(DiscountFixed, v)
			got, err := ParseDiscountValue(DiscountFixed, s)
			if err != nil || got != v {
				t.Fatalf("%d formats as %q, which parses as %d, %v", v, s, got, err)
			}
		}
	})
	formats := []struct {
		typ   string
		value int64
		want  string
	}{
		{DiscountPercent, 1250, "12.5"},
		{DiscountPercent, 1000, "10"},
		{DiscountPercent, 10000, "100"},
		{DiscountPercent, 1, "0.01"},
		{DiscountPercent, 10, "0.1"},
		{DiscountPercent, 1205, "12.05"},
		{DiscountFixed, 500, "500"},
		{DiscountFixed, 1000, "1000"},
	}
	for _, tt := range formats {
		t.Run(fmt.Sprintf("format %s %d", tt.typ, tt.value), func(t *testing.T) {
			t.Parallel()
			if got := FormatDiscountValue(tt.typ, tt.value); got != tt.want {
				t.Errorf("FormatDiscountValue(%s, %d) = %q, want %q", tt.typ, tt.value, got, tt.want)
			}
		})
	}
}

func TestParseDiscountValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, raw string
		want     int64
		// err is part of the message for the field; "" means valid.
		err string
	}{
		{typ: DiscountPercent, raw: "12.5", want: 1250},
		{typ: DiscountPercent, raw: " 12.50 ", want: 1250},
		{typ: DiscountPercent, raw: "0.01", want: 1},
		{typ: DiscountPercent, raw: "100", want: 10000},
		{typ: DiscountPercent, raw: "100.00", want: 10000},
		{typ: DiscountPercent, raw: "007", want: 700},
		{typ: DiscountPercent, raw: "", err: "is required"},
		{typ: DiscountPercent, raw: "  ", err: "is required"},
		{typ: DiscountPercent, raw: "0", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "0.00", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "0.001", err: "at most two decimals"},
		{typ: DiscountPercent, raw: "100.01", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "101", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "12.345", err: "at most two decimals"},
		{typ: DiscountPercent, raw: "-5", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "+5", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "5.-1", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "5.", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: ".5", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "12,5", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "1e2", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "10%", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "1_0", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "99999999999999999999", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "NaN", err: "from 0.01 to 100"},
		{typ: DiscountFixed, raw: "500", want: 500},
		{typ: DiscountFixed, raw: " 1 ", want: 1},
		{typ: DiscountFixed, raw: "1000000000000000", want: MaxAmount},
		{typ: DiscountFixed, raw: "", err: "is required"},
		{typ: DiscountFixed, raw: "0", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "-500", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "5.00", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "1000000000000001", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "9223372036854775808", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "5e2", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "+500", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "500.0", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "5.", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "1,000", err: "whole amount in minor units from 1"},
		{typ: DiscountFixed, raw: "0500", want: 500},
		{typ: DiscountPercent, raw: "12.500", err: "at most two decimals"},
		{typ: DiscountPercent, raw: "0000012", err: "from 0.01 to 100"},
		{typ: DiscountPercent, raw: "000012", want: 1200},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDiscountValue(tt.typ, tt.raw)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseDiscountValue(%s, %q) = %d, %v; want an error containing %q", tt.typ, tt.raw, got, err, tt.err)
				}
				if tt.raw != "" && strings.TrimSpace(tt.raw) != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", strings.TrimSpace(tt.raw))) {
					t.Errorf("message %q does not show the value %q back", err, tt.raw)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDiscountValue(%s, %q) = %d, %v; want %d", tt.typ, tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want time.Time
		// null means blank is no time; err means rejected.
		null, err bool
	}{
		{raw: "", null: true},
		{raw: "   ", null: true},
		{raw: "2026-12-24T18:00:00Z", want: time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)},
		{raw: "2026-12-24T18:00:00.123456789Z", want: time.Date(2026, 12, 24, 18, 0, 0, 123456789, time.UTC)},
		{raw: "2026-12-24T18:00:00+02:00", want: time.Date(2026, 12, 24, 16, 0, 0, 0, time.UTC)},
		{raw: "2026-12-24T18:00:00-05:30", want: time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC)},
		{raw: "2026-12-24T18:00:30", want: time.Date(2026, 12, 24, 18, 0, 30, 0, time.UTC)},
		{raw: "2026-12-24T18:00", want: time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)},
		{raw: " 2026-12-24 ", want: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)},
		{raw: "1970-01-01", want: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{raw: "9999-12-31T23:59:59Z", want: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{raw: "1969-12-31", err: true},
		{raw: "1970-01-01T00:30:00+01:00", err: true},
		{raw: "0001-01-01T00:00:00Z", err: true},
		{raw: "2026-13-01", err: true},
		{raw: "2026-02-30", err: true},
		{raw: "2026-12-24 18:00", err: true},
		{raw: "24/12/2026", err: true},
		{raw: "2026-12-24T25:00", err: true},
		{raw: "tomorrow", err: true},
		{raw: "1798761600", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTime(tt.raw)
			switch {
			case tt.err:
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", strings.TrimSpace(tt.raw))) || !strings.Contains(err.Error(), "UTC") {
					t.Fatalf("ParseTime(%q) = %v, %v; want a message naming the value and the accepted forms", tt.raw, got, err)
				}
			case tt.null:
				if got != nil || err != nil {
					t.Fatalf("ParseTime(%q) = %v, %v; want nil, nil", tt.raw, got, err)
				}
			default:
				if err != nil || got == nil || !got.Equal(tt.want) || got.Location() != time.UTC {
					t.Fatalf("ParseTime(%q) = %v, %v; want %v in UTC", tt.raw, got, err, tt.want)
				}
			}
		})
	}
}

func TestParseEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want *time.Time
		err  bool
	}{
		{raw: "", want: nil},
		{raw: "2026-12-31", want: ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))},
		{raw: " 2026-02-28 ", want: ptr(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))},
		{raw: "2026-12-31T00:00", want: ptr(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))},
		{raw: "2026-12-31T00:00:00Z", want: ptr(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))},
		{raw: "2026-12-31T23:59:59+01:00", want: ptr(time.Date(2026, 12, 31, 22, 59, 59, 0, time.UTC))},
		{raw: "2026-12-32", err: true},
		{raw: "9999-12-30", want: ptr(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))},
		// Its end is in the year 10000, which no time is written in.
		{raw: "9999-12-31", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEnd(tt.raw)
			if tt.err {
				if err == nil {
					t.Fatalf("ParseEnd(%q) = %v, want an error", tt.raw, got)
				}
				return
			}
			if err != nil || (got == nil) != (tt.want == nil) || got != nil && !got.Equal(*tt.want) {
				t.Fatalf("ParseEnd(%q) = %v, %v; want %v", tt.raw, got, err, tt.want)
			}
		})
	}
}

// fieldMessages returns a *ValidationError's messages by field, or fails.
func fieldMessages(t *testing.T, err error) map[string]string {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	got := map[string]string{}
	for _, fe := range verr.Errors {
		got[fe.Field] = fe.Message
	}
	return got
}

// checkMessages fails unless err's messages are exactly for the fields of
// want, each containing want's text.
func checkMessages(t *testing.T, err error, want map[string]string) {
	t.Helper()
	got := fieldMessages(t, err)
	for field, part := range want {
		if !strings.Contains(got[field], part) {
			t.Errorf("%s: message %q, want one containing %q", field, got[field], part)
		}
	}
	for field, msg := range got {
		if _, ok := want[field]; !ok {
			t.Errorf("unexpected message for %s: %q", field, msg)
		}
	}
}

func TestPromotionInputValidate(t *testing.T) {
	t.Parallel()
	valid := func() PromotionInput {
		return PromotionInput{Name: " Spring sale ", DiscountType: DiscountPercent, DiscountValue: "12.5", UTMSource: ptr(" spring ")}
	}
	t.Run("defaults and trimming", func(t *testing.T) {
		t.Parallel()
		in := valid()
		in.BeginsAt, in.EndsAt = "2026-12-01", "2026-12-24T18:00:00+01:00"
		in.DiscountCap, in.MaxUsage, in.MaxUsagePerClient = ptr(int64(300)), 100, 1
		in.UTMCampaign = ptr("  ")
		got, err := in.Validate()
		if err != nil {
			t.Fatal(err)
		}
		want := PromotionSpec{Name: "Spring sale", Status: PromotionActive, Kind: KindRegular, DiscountType: DiscountPercent, DiscountValue: 1250,
			DiscountCap: ptr(int64(300)), AppliesTo: AppliesToBill, BeginsAt: ptr(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
			EndsAt: ptr(time.Date(2026, 12, 24, 17, 0, 0, 0, time.UTC)), MaxUsage: 100, MaxUsagePerClient: 1, UTMSource: ptr("spring")}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("spec (-want +got):\n%s", d)
		}
	})
	tests := []struct {
		name string
		mod  func(*PromotionInput)
		want map[string]string
	}{
		{name: "ends before it begins", mod: func(in *PromotionInput) { in.BeginsAt, in.EndsAt = "2026-12-24", "2026-12-01" },
			want: map[string]string{FieldEndsAt: "must be after the start"}},
		{name: "ends as it begins", mod: func(in *PromotionInput) { in.BeginsAt, in.EndsAt = "2026-12-24T00:00:00Z", "2026-12-24T00:00" },
			want: map[string]string{FieldEndsAt: "must be after the start"}},
		{name: "unreadable dates", mod: func(in *PromotionInput) { in.BeginsAt, in.EndsAt = "soon", "later" },
			want: map[string]string{FieldBeginsAt: `not "soon"`, FieldEndsAt: `not "later"`}},
		{name: "a percentage over 100", mod: func(in *PromotionInput) { in.DiscountValue = "100.5" },
			want: map[string]string{FieldDiscountValue: "a percentage from 0.01 to 100"}},
		{name: "a regular promotion with no UTM tag", mod: func(in *PromotionInput) { in.UTMSource, in.UTMCampaign = nil, ptr(" ") },
			want: map[string]string{FieldUTMSource: "give a UTM source or a UTM campaign"}},
		{name: "a bad UTM tag is its own message", mod: func(in *PromotionInput) { in.UTMSource = ptr(strings.Repeat("x", MaxUTMLength+1)) },
			want: map[string]string{FieldUTMSource: "at most 255"}},
		{name: "no name", mod: func(in *PromotionInput) { in.Name = "  " }, want: map[string]string{FieldName: "is required"}},
		{name: "name too long", mod: func(in *PromotionInput) { in.Name = strings.Repeat("é", MaxPromotionNameLength+1) },
			want: map[string]string{FieldName: "at most 200 characters"}},
		{name: "control character in the description", mod: func(in *PromotionInput) { in.Description = "a\x00b" },
			want: map[string]string{FieldDescription: "control characters"}},
		{name: "unknown status, kind and applies-to", mod: func(in *PromotionInput) { in.Status, in.Kind, in.AppliesTo = "paused", "flash", "item" },
			want: map[string]string{FieldStatus: "one of active, inactive, archived", FieldKind: "one of regular, bulk, series", FieldAppliesTo: `must be "bill"`}},
		{name: "unknown discount type", mod: func(in *PromotionInput) { in.DiscountType = "bogo" },
			want: map[string]string{FieldDiscountType: `"percent" or "fixed"`}},
		{name: "a fixed discount in decimals", mod: func(in *PromotionInput) { in.DiscountType, in.DiscountValue = DiscountFixed, "5.00" },
			want: map[string]string{FieldDiscountValue: "whole amount in minor units"}},
		{name: "zero cap", mod: func(in *PromotionInput) { in.DiscountCap = ptr(int64(0)) },
			want: map[string]string{FieldDiscountCap: "from 1 to"}},
		{name: "cap past the largest amount", mod: func(in *PromotionInput) { in.DiscountCap = ptr(int64(MaxAmount + 1)) },
			want: map[string]string{FieldDiscountCap: "from 1 to"}},
		{name: "negative limits", mod: func(in *PromotionInput) { in.MaxUsage, in.MaxUsagePerClient = -1, -1 },
			want: map[string]string{FieldMaxUsage: "0 (unlimited) or more", FieldMaxUsagePerClient: "0 (unlimited) or more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			tt.mod(&in)
			spec, err := in.Validate()
			if err == nil {
				t.Fatalf("Validate() = %+v, want a *ValidationError", spec)
			}
			checkMessages(t, err, tt.want)
		})
	}
	t.Run("a date alone as the end ends with that day", func(t *testing.T) {
		t.Parallel()
		in := valid()
		in.BeginsAt, in.EndsAt = "2026-12-24", "2026-12-24"
		got, err := in.Validate()
		if err != nil || !got.BeginsAt.Equal(time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)) || !got.EndsAt.Equal(time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("one-day promotion: %v to %v, %v; want all of 24 December", got.BeginsAt, got.EndsAt, err)
		}
	})
	t.Run("bulk and series promotions need no tag", func(t *testing.T) {
		t.Parallel()
		for _, kind := range []string{KindBulk, KindSeries} {
			in := valid()
			in.Kind, in.UTMSource = kind, nil
			if _, err := in.Validate(); err != nil {
				t.Errorf("%s promotion without tags: %v", kind, err)
			}
		}
	})
}

func TestRedemptionInputValidate(t *testing.T) {
	t.Parallel()
	t.Run("trims", func(t *testing.T) {
		t.Parallel()
		got, err := RedemptionInput{Code: " spring ", CustomerID: " alice ", OrderID: "\to-1\n", Items: 2, OrderAmount: ptr(int64(0))}.Validate()
		want := RedemptionInput{Code: "spring", CustomerID: "alice", OrderID: "o-1", Items: 2, OrderAmount: ptr(int64(0))}
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("input (-want +got):\n%s", d)
		}
	})
	t.Run("the largest values", func(t *testing.T) {
		t.Parallel()
		in := RedemptionInput{Code: "X", CustomerID: strings.Repeat("c", MaxCustomerIDLength), OrderID: strings.Repeat("o", MaxOrderIDLength),
			Items: MaxRedemptionItems, OrderAmount: ptr(int64(MaxAmount))}
		if _, err := in.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	valid := func() RedemptionInput {
		return RedemptionInput{Code: "SPRING", CustomerID: "alice", OrderID: "o-1", Items: 1}
	}
	tests := []struct {
		name string
		mod  func(*RedemptionInput)
		want map[string]string
	}{
		{name: "everything missing", mod: func(in *RedemptionInput) { *in = RedemptionInput{} },
			want: map[string]string{FieldCode: "is required", FieldCustomerID: "is required", FieldOrderID: "is required", FieldItems: "from 1 to 1000000"}},
		{name: "blank code", mod: func(in *RedemptionInput) { in.Code = "  " }, want: map[string]string{FieldCode: "is required"}},
		{name: "customer too long", mod: func(in *RedemptionInput) { in.CustomerID = strings.Repeat("c", MaxCustomerIDLength+1) },
			want: map[string]string{FieldCustomerID: "at most 128 bytes"}},
		{name: "order too long", mod: func(in *RedemptionInput) { in.OrderID = strings.Repeat("é", 65) },
			want: map[string]string{FieldOrderID: "at most 128 bytes"}},
		{name: "space inside the customer", mod: func(in *RedemptionInput) { in.CustomerID = "alice smith" },
			want: map[string]string{FieldCustomerID: "printable text without spaces"}},
		{name: "control character in the order", mod: func(in *RedemptionInput) { in.OrderID = "o\x01" },
			want: map[string]string{FieldOrderID: "printable text without spaces"}},
		{name: "invalid UTF-8 in the order", mod: func(in *RedemptionInput) { in.OrderID = "o\xff" },
			want: map[string]string{FieldOrderID: "printable text without spaces"}},
		{name: "no items", mod: func(in *RedemptionInput) { in.Items = 0 }, want: map[string]string{FieldItems: "from 1 to"}},
		{name: "negative items", mod: func(in *RedemptionInput) { in.Items = -1 }, want: map[string]string{FieldItems: "from 1 to"}},
		{name: "too many items", mod: func(in *RedemptionInput) { in.Items = MaxRedemptionItems + 1 }, want: map[string]string{FieldItems: "from 1 to"}},
		{name: "negative amount", mod: func(in *RedemptionInput) { in.OrderAmount = ptr(int64(-1)) },
			want: map[string]string{FieldOrderAmount: "from 0 to 1000000000000000"}},
		{name: "amount past the largest", mod: func(in *RedemptionInput) { in.OrderAmount = ptr(int64(MaxAmount + 1)) },
			want: map[string]string{FieldOrderAmount: "from 0 to"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			tt.mod(&in)
			_, err := in.Validate()
			checkMessages(t, err, tt.want)
		})
	}
}

func TestCheckInputValidate(t *testing.T) {
	t.Parallel()
	t.Run("customer optional, items default to one", func(t *testing.T) {
		t.Parallel()
		got, err := CheckInput{Code: " spring "}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(CheckInput{Code: "spring", Items: 1}, got); d != "" {
			t.Fatalf("input (-want +got):\n%s", d)
		}
	})
	tests := []struct {
		name string
		in   CheckInput
		want map[string]string
	}{
		{name: "no code", in: CheckInput{}, want: map[string]string{FieldCode: "is required"}},
		{name: "customer with a space", in: CheckInput{Code: "X", CustomerID: "a b"}, want: map[string]string{FieldCustomerID: "without spaces"}},
		{name: "customer too long", in: CheckInput{Code: "X", CustomerID: strings.Repeat("c", 129)}, want: map[string]string{FieldCustomerID: "at most 128"}},
		{name: "negative items", in: CheckInput{Code: "X", Items: -3}, want: map[string]string{FieldItems: "from 1 to"}},
		{name: "too many items", in: CheckInput{Code: "X", Items: MaxRedemptionItems + 1}, want: map[string]string{FieldItems: "from 1 to"}},
		{name: "negative amount", in: CheckInput{Code: "X", OrderAmount: ptr(int64(-1))}, want: map[string]string{FieldOrderAmount: "from 0 to"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.in.Validate()
			checkMessages(t, err, tt.want)
		})
	}
}

func TestCountingSince(t *testing.T) {
	t.Parallel()
	if got := CountingSince(ruleNow, 0); !got.IsZero() {
		t.Errorf("no interval: %v, want the zero time (every use counts)", got)
	}
	if got := CountingSince(ruleNow, -time.Hour); !got.IsZero() {
		t.Errorf("negative interval: %v, want the zero time", got)
	}
	if got := CountingSince(ruleNow, 24*time.Hour); !got.Equal(ruleNow.Add(-24 * time.Hour)) {
		t.Errorf("one day: %v, want a day before now", got)
	}
}

func TestSingleUseInputPlan(t *testing.T) {
	t.Parallel()
	t.Run("for one customer", func(t *testing.T) {
		t.Parallel()
		c, p, err := SingleUseInput{Code: " Bday-Ann ", CustomerID: " ann ", DiscountType: DiscountFixed, DiscountValue: "1500", EndsAt: "2026-12-31"}.Plan(ruleNow)
		if err != nil {
			t.Fatal(err)
		}
		one := 1
		wantC := CouponSpec{Code: "Bday-Ann", UTMSource: ptr("single-use-bday-ann"), MaxUsage: 1, MaxUsagePerClient: &one, CustomerID: ptr("ann")}
		if d := cmp.Diff(wantC, c); d != "" {
			t.Errorf("coupon (-want +got):\n%s", d)
		}
		wantP := PromotionSpec{Name: "Single-use coupon Bday-Ann", Description: "One use of Bday-Ann by customer ann", Status: PromotionActive, Kind: KindRegular,
			DiscountType: DiscountFixed, DiscountValue: 1500, AppliesTo: AppliesToBill, EndsAt: ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)),
			MaxUsage: 1, MaxUsagePerClient: 1, UTMSource: ptr("single-use-bday-ann")}
		if d := cmp.Diff(wantP, p); d != "" {
			t.Errorf("promotion (-want +got):\n%s", d)
		}
		if !(Promotion{UTMSource: p.UTMSource}).Reaches(Coupon{UTMSource: c.UTMSource, UTMCampaign: c.UTMCampaign}) {
			t.Error("the coupon does not reach its own promotion")
		}
	})
	t.Run("for anyone, without an end", func(t *testing.T) {
		t.Parallel()
		c, p, err := SingleUseInput{Code: "GIFT1", DiscountType: DiscountPercent, DiscountValue: "20", DiscountCap: ptr(int64(1000))}.Plan(ruleNow)
		if err != nil {
			t.Fatal(err)
		}
		if c.CustomerID != nil || p.EndsAt != nil || p.DiscountValue != 2000 || *p.DiscountCap != 1000 || p.Description != "One use of GIFT1" {
			t.Fatalf("coupon %+v, promotion %+v: want no customer, no end, 20 %% capped at 1000", c, p)
		}
	})
	tests := []struct {
		name string
		in   SingleUseInput
		want map[string]string
	}{
		{name: "ends now", in: SingleUseInput{Code: "A", DiscountType: DiscountFixed, DiscountValue: "1", EndsAt: ruleNow.Format(time.RFC3339)},
			want: map[string]string{FieldEndsAt: "must be in the future"}},
		{name: "ended yesterday", in: SingleUseInput{Code: "A", DiscountType: DiscountFixed, DiscountValue: "1", EndsAt: "2026-11-20"},
			want: map[string]string{FieldEndsAt: "must be in the future"}},
		{name: "unreadable end", in: SingleUseInput{Code: "A", DiscountType: DiscountFixed, DiscountValue: "1", EndsAt: "next week"},
			want: map[string]string{FieldEndsAt: `not "next week"`}},
		{name: "everything wrong", in: SingleUseInput{Code: "-bad", CustomerID: "ann smith", DiscountType: DiscountPercent, DiscountValue: "150", DiscountCap: ptr(int64(-1))},
			want: map[string]string{FieldCode: "start with a letter or a digit", FieldCustomerID: "without spaces", FieldDiscountValue: "from 0.01 to 100", FieldDiscountCap: "from 1 to"}},
		{name: "reserved code", in: SingleUseInput{Code: "new", DiscountType: DiscountFixed, DiscountValue: "1"},
			want: map[string]string{FieldCode: "reserved"}},
		{name: "no discount", in: SingleUseInput{Code: "A"},
			want: map[string]string{FieldDiscountType: `"percent" or "fixed"`}},
		{name: "no discount value", in: SingleUseInput{Code: "A", DiscountType: DiscountFixed},
			want: map[string]string{FieldDiscountValue: "is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, p, err := tt.in.Plan(ruleNow)
			if err == nil {
				t.Fatalf("Plan() = %+v, %+v; want a *ValidationError", c, p)
			}
			checkMessages(t, err, tt.want)
		})
	}
}
