package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Audit actions.
const (
	ActionCouponCreate       = "coupon.create"
	ActionCouponUpdate       = "coupon.update"
	ActionCouponArchive      = "coupon.archive"
	ActionCouponUnarchive    = "coupon.unarchive"
	ActionCouponDelete       = "coupon.delete"
	ActionBatchGenerate      = "batch.generate"
	ActionBatchCancel        = "batch.cancel"
	ActionImportCreate       = "import.create"
	ActionLogin              = "user.login"
	ActionLoginFailed        = "user.login_failed"
	ActionLogout             = "user.logout"
	ActionUserCreate         = "user.create"
	ActionUserRole           = "user.role"
	ActionUserDisable        = "user.disable"
	ActionUserEnable         = "user.enable"
	ActionUserPassword       = "user.password"
	ActionTokenCreate        = "token.create"
	ActionTokenRevoke        = "token.revoke"
	ActionPromotionCreate    = "promotion.create"
	ActionPromotionUpdate    = "promotion.update"
	ActionPromotionArchive   = "promotion.archive"
	ActionPromotionUnarchive = "promotion.unarchive"
	ActionSingleUseCreate    = "coupon.single_use"
	ActionRedeem             = "redemption.create"
	ActionSeriesCreate       = "series.create"
	ActionSeriesUpdate       = "series.update"
	ActionIssue              = "coupon.issue"
	ActionRedeemCancel       = "redemption.cancel"
	ActionReserve            = "reservation.create"
	ActionReservationRelease = "reservation.release"
)

// AuditActions lists every action, for filters.
var AuditActions = []string{
	ActionCouponCreate, ActionCouponUpdate, ActionCouponArchive, ActionCouponUnarchive, ActionCouponDelete, ActionBatchGenerate, ActionBatchCancel, ActionImportCreate,
	ActionLogin, ActionLoginFailed, ActionLogout, ActionUserCreate, ActionUserRole, ActionUserDisable,
	ActionUserEnable, ActionUserPassword, ActionTokenCreate, ActionTokenRevoke,
	ActionPromotionCreate, ActionPromotionUpdate, ActionPromotionArchive, ActionPromotionUnarchive, ActionSingleUseCreate,
	ActionRedeem, ActionRedeemCancel, ActionSeriesCreate, ActionSeriesUpdate, ActionIssue, ActionReserve, ActionReservationRelease,
}

// Audited entities.
const (
	EntityCoupon      = "coupon"
	EntityBatch       = "batch"
	EntityUser        = "user"
	EntityToken       = "token"
	EntityPromotion   = "promotion"
	EntityRedemption  = "redemption"
	EntityReservation = "reservation"
)

// AuditEntities lists every entity, for filters.
var AuditEntities = []string{EntityCoupon, EntityBatch, EntityUser, EntityToken, EntityPromotion, EntityRedemption, EntityReservation}

// AuditEvent is one change: when, who, what, to which entity, and a short
// summary of what changed. Events are written in the transaction of the
// change they describe and never edited.
type AuditEvent struct {
	ID       int64     `gorm:"primaryKey"`
	At       time.Time `gorm:"not null;index"`
	Actor    string    `gorm:"size:300;not null;index:idx_audit_actor_id,priority:1"`
	Action   string    `gorm:"size:64;not null;index:idx_audit_action_id,priority:1"`
	Entity   string    `gorm:"size:32;not null;index:idx_audit_entity_id,priority:1"`
	EntityID string    `gorm:"size:128;not null"`
	Summary  string    `gorm:"size:2000;not null"`
}

// couponSummary describes a coupon's configuration for the audit log.
func couponSummary(c Coupon) string {
	s := fmt.Sprintf("UTM source %s, UTM campaign %s, max uses %d, max uses per customer %d, max items per customer %d, renewal interval %s, archived %s",
		orDash(c.UTMSource), orDash(c.UTMCampaign), c.MaxUsage, c.MaxUsagePerClient, c.MaxItemsPerClient, FormatTimeSpan(c.ExpirationIntervalPerUse), yesNo(c.Archived))
	if c.CustomerID != nil {
		s += ", for customer " + *c.CustomerID
	}
	return s
}

// couponDiff lists the fields that differ between two versions of a coupon.
func couponDiff(before, after Coupon) string {
	parts := couponChanges(before, after)
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// couponChanges lists what differs between before and after, for people.
func couponChanges(before, after Coupon) []string {
	var parts []string
	add := func(name, a, b string) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %s → %s", name, a, b))
		}
	}
	add("UTM source", orDash(before.UTMSource), orDash(after.UTMSource))
	add("UTM campaign", orDash(before.UTMCampaign), orDash(after.UTMCampaign))
	add("max uses", fmt.Sprint(before.MaxUsage), fmt.Sprint(after.MaxUsage))
	add("max uses per customer", fmt.Sprint(before.MaxUsagePerClient), fmt.Sprint(after.MaxUsagePerClient))
	add("max items per customer", fmt.Sprint(before.MaxItemsPerClient), fmt.Sprint(after.MaxItemsPerClient))
	add("renewal interval", FormatTimeSpan(before.ExpirationIntervalPerUse), FormatTimeSpan(after.ExpirationIntervalPerUse))
	add("archived", yesNo(before.Archived), yesNo(after.Archived))
	return parts
}

func orDash(s *string) string {
	if s == nil {
		return "—"
	}
	return *s
}

// promotionSummary describes a promotion for the audit log.
func promotionSummary(p Promotion) string {
	return fmt.Sprintf("name=%q status=%s kind=%s discount=%s %s cap=%s begins=%s ends=%s maxUsage=%d maxUsagePerClient=%d utmSource=%s utmCampaign=%s",
		p.Name, p.Status, p.Kind, FormatDiscountValue(p.DiscountType, p.DiscountValue), p.DiscountType, orDashMoney(p.DiscountCap),
		orDashTime(p.BeginsAt), orDashTime(p.EndsAt), p.MaxUsage, p.MaxUsagePerClient, orDash(p.UTMSource), orDash(p.UTMCampaign))
}

// promotionDiff lists the fields that differ between two versions of a
// promotion.
func promotionDiff(before, after Promotion) string {
	var parts []string
	add := func(name, a, b string) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %s → %s", name, a, b))
		}
	}
	add("name", strconv.Quote(before.Name), strconv.Quote(after.Name))
	add("description", strconv.Quote(truncate(before.Description, 80)), strconv.Quote(truncate(after.Description, 80)))
	add("status", before.Status, after.Status)
	add("kind", before.Kind, after.Kind)
	add("discount", FormatDiscountValue(before.DiscountType, before.DiscountValue)+" "+before.DiscountType, FormatDiscountValue(after.DiscountType, after.DiscountValue)+" "+after.DiscountType)
	add("cap", orDashMoney(before.DiscountCap), orDashMoney(after.DiscountCap))
	add("begins", orDashTime(before.BeginsAt), orDashTime(after.BeginsAt))
	add("ends", orDashTime(before.EndsAt), orDashTime(after.EndsAt))
	add("max uses", fmt.Sprint(before.MaxUsage), fmt.Sprint(after.MaxUsage))
	add("max uses per customer", fmt.Sprint(before.MaxUsagePerClient), fmt.Sprint(after.MaxUsagePerClient))
	add("UTM source", orDash(before.UTMSource), orDash(after.UTMSource))
	add("UTM campaign", orDash(before.UTMCampaign), orDash(after.UTMCampaign))
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// yesNo writes a flag as a person reads it.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// orDashMoney writes an optional amount in minor units, "—" for none.
func orDashMoney(n *int64) string {
	if n == nil {
		return "—"
	}
	return Money(*n).Format(0)
}

func orDashTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format(time.RFC3339)
}
