package models

import "time"

// Batch statuses.
const (
	BatchDone = "done"
)

// Batch is one generation run: the configuration's base code, how many
// codes were asked for, and when. Its codes are the coupons that carry its
// ID, in generation order.
type Batch struct {
	ID        int64     `gorm:"primaryKey"`
	BaseCode  string    `gorm:"size:64;not null"`
	Quantity  int       `gorm:"not null"`
	Status    string    `gorm:"size:16;not null"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}
