package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Batch statuses. A batch is pending until a runner takes it, running
// while codes are made, and ends done (every code made), failed (an
// error the runner could not get past) or cancelled (by a user; the codes
// made so far stay).
const (
	BatchPending   = "pending"
	BatchRunning   = "running"
	BatchDone      = "done"
	BatchFailed    = "failed"
	BatchCancelled = "cancelled"
)

// BatchStatuses lists every status, for filters.
var BatchStatuses = []string{BatchPending, BatchRunning, BatchDone, BatchFailed, BatchCancelled}

// MaxBatchQuantity is the most codes one batch may make.
const MaxBatchQuantity = 10_000_000

// Batch is one generation run: the format and coupon configuration its
// codes get, how many were asked for and made, and who asked. Its codes
// are the coupons that carry its ID.
type Batch struct {
	ID int64 `gorm:"primaryKey"`
	// Kind is BatchGenerate (codes made from a format) or BatchImport
	// (codes read from a file; Generated counts the rows imported,
	// Rejected the rows refused, NextBucket how many of its rows sorted
	// by code are done; see import_sort.go).
	Kind        string `gorm:"not null;default:generate"`
	Rejected    int    `gorm:"not null;default:0"`
	FileName    string `gorm:"not null;default:''"`
	PromotionID *int64 `gorm:"column:promotion_id"`
	// BaseCode is the base code the batch's codes extend (a request for
	// several codes generated from one base code), or the format's
	// prefix.
	BaseCode string `gorm:"size:64;not null"`
	// Format is the FormatInput as JSON; empty for batches made before
	// formats existed.
	Format string `gorm:"not null;default:''"`
	// Shape is Format.Shape: batches of one shape share a keyspace.
	Shape     string `gorm:"not null;default:''"`
	Quantity  int    `gorm:"not null"`
	Generated int    `gorm:"not null;default:0"`
	// NextBucket is where the runner goes on: the batch's codes are made
	// in order of their first characters, a range at a time (see
	// Format.Buckets).
	NextBucket int `gorm:"not null;default:0"`
	// BucketOrder is the secret order the buckets are taken in (see
	// bucketPermutation), so that the codes of a batch stopped half way
	// are not all in the first half of the keyspace.
	BucketOrder int64  `gorm:"not null;default:0"`
	Status      string `gorm:"size:16;not null"`
	// Archived is whether the batch's codes are made archived, as the
	// coupon configuration of the request asked.
	Archived                 bool          `gorm:"not null;default:false"`
	MaxUsage                 int           `gorm:"not null;default:0"`
	MaxUsagePerClient        int           `gorm:"not null;default:0"`
	MaxItemsPerClient        int           `gorm:"not null;default:0"`
	ExpirationIntervalPerUse time.Duration `gorm:"not null;default:0"`
	UTMSource                *string       `gorm:"column:utm_source"`
	UTMCampaign              *string       `gorm:"column:utm_campaign"`
	CreatedBy                string        `gorm:"not null;default:''"`
	// Error says why a failed batch failed.
	Error string `gorm:"not null;default:''"`
	// LeaseOwner is the instance running the batch until LeaseUntil.
	LeaseOwner *string
	LeaseUntil *time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

// Finished reports whether the batch has stopped for good.
func (b Batch) Finished() bool {
	return b.Status == BatchDone || b.Status == BatchFailed || b.Status == BatchCancelled
}

// FormatInput is the batch's format, or the zero input for a batch made
// before formats were recorded.
func (b Batch) FormatInput() FormatInput {
	var in FormatInput
	if b.Format != "" {
		_ = json.Unmarshal([]byte(b.Format), &in)
	}
	return in
}

// Progress is how far a batch has come at now: the share made, the rate
// since it started, and the time left at that rate (zero when unknown).
type Progress struct {
	Fraction float64
	PerSec   float64
	Left     time.Duration
	Elapsed  time.Duration
}

// Progress computes b's progress at now: of an import, the rows done,
// imported or refused, and the rate of the rows its runner has judged.
func (b Batch) Progress(now time.Time) Progress {
	var p Progress
	done := b.Generated + b.Rejected
	if b.Quantity > 0 {
		p.Fraction = float64(done) / float64(b.Quantity)
	}
	if b.StartedAt == nil {
		return p
	}
	end := now
	if b.FinishedAt != nil {
		end = *b.FinishedAt
	}
	p.Elapsed = end.Sub(*b.StartedAt)
	// The rate is of the rows the runner has done: an import's rows
	// refused as its file was read took none of its time.
	ran := done
	if b.Kind == BatchImport {
		ran = b.NextBucket
	}
	if p.Elapsed > 0 && ran > 0 {
		p.PerSec = float64(ran) / p.Elapsed.Seconds()
		if !b.Finished() {
			p.Left = time.Duration(float64(b.Quantity-done) / p.PerSec * float64(time.Second))
		}
	}
	return p
}

// BatchInput asks for a batch as a client sent it, before validation.
type BatchInput struct {
	PromotionID              *int64
	Quantity                 int
	Format                   FormatInput
	MaxUsage                 int
	MaxUsagePerClient        int
	MaxItemsPerClient        int
	ExpirationIntervalPerUse string
	UTMSource                *string
	UTMCampaign              *string
}

// BatchSpec is a validated batch request.
type BatchSpec struct {
	PromotionID *int64
	Quantity    int
	Format      Format
	// Coupon is the configuration every code gets; its Code is unused.
	Coupon CouponSpec
}

// Validate checks every field against a largest quantity of maxQuantity
// and returns the spec, or a *ValidationError naming each bad field.
func (in BatchInput) Validate(maxQuantity int) (BatchSpec, error) {
	var verr ValidationError
	spec := BatchSpec{PromotionID: in.PromotionID, Quantity: in.Quantity}
	if in.Quantity < 1 || in.Quantity > maxQuantity {
		verr.Add(FieldQuantity, fmt.Sprintf("must be between 1 and %d", maxQuantity))
	}
	if in.PromotionID != nil && *in.PromotionID < 1 {
		verr.Add(FieldPromotionID, "must be the id of a promotion")
	}
	f, err := in.Format.Compile()
	if err != nil {
		mergeInto(&verr, FieldFormat, err)
	}
	spec.Format = f
	c, err := CouponInput{
		Code:                     "x",
		UTMSource:                in.UTMSource,
		UTMCampaign:              in.UTMCampaign,
		MaxItemsPerClient:        in.MaxItemsPerClient,
		ExpirationIntervalPerUse: in.ExpirationIntervalPerUse,
		MaxUsage:                 in.MaxUsage,
		MaxUsagePerClient:        &in.MaxUsagePerClient,
	}.Validate()
	if err != nil {
		mergeInto(&verr, FieldItems, err)
	}
	c.Code = ""
	spec.Coupon = c
	if err := verr.Err(); err != nil {
		return BatchSpec{}, err
	}
	return spec, nil
}

// mergeInto adds err's field messages to verr; an error that is not a
// *ValidationError becomes a message for field.
func mergeInto(verr *ValidationError, field string, err error) {
	var v *ValidationError
	if errors.As(err, &v) {
		verr.Merge(NoItem, v)
		return
	}
	verr.Add(field, err.Error())
}
