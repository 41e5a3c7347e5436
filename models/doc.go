// Package models is coupond's domain and its store: what a promotion, a
// coupon, a redemption and the rest are, the rules that decide what may
// happen to them, and the persistence (GORM on SQLite or PostgreSQL)
// that keeps them. It speaks only the domain: the console and each API
// dialect read their requests into its inputs, call one Store method,
// and name its fields and reasons in their own words.
//
// Each aggregate has a file for its type, constants and pure rules (the
// clock and the random source are parameters, so they are tested without
// a database) and a _store.go file for its queries:
//
//   - Promotions, the discount rules codes activate: promotion.go,
//     promotion_store.go, and the codes a bulk promotion owns in
//     promotion_codes_store.go.
//   - Coupons, the codes themselves: coupon.go, coupon_store.go, and
//     lookup.go for reading a code the way its format writes it.
//   - Formats and generation: format.go (a code's shape, its capacity,
//     its check character), codegen.go (uniform random characters).
//   - Batches of generated codes: batch.go, batch_store.go, and
//     batch_engine.go, which makes large batches in the background.
//   - Redemptions, the uses of a code: redemption.go (Evaluate, every rule
//     of a use, and why a code cannot be redeemed), redemption_store.go
//     (Check, Redeem, RedeemAll, CancelRedemption), and guess.go, which
//     refuses look-ups from whoever tries too many unknown codes.
//   - Series of personal codes issued to customers: series.go,
//     series_store.go; the customers: customer.go, customer_store.go.
//   - Console users, API tokens and sessions: user.go, user_store.go,
//     token.go, session_store.go; who made a change: actor.go.
//   - The audit log: audit.go, audit_store.go.
//   - Idempotent API requests: idempotency_store.go.
//   - Money, amounts in minor units read and written as decimals:
//     money.go; renewal intervals as time spans: timespan.go.
//
// Start with store.go (Open, Config and the Store), then write.go (how
// every write runs: SQLite's one writer, PostgreSQL's locks) and
// errors.go with fields.go (the errors every method returns, and the
// domain's field names in them). migrate.go applies the SQL migrations in
// migrations/, one directory per database.
package models
