package models

// Domain field names, used in every *ValidationError. The API dialects and
// the console map them to their own names.
const (
	FieldCode                     = "code"
	FieldUTMSource                = "utmSource"
	FieldUTMCampaign              = "utmCampaign"
	FieldMaxItemsPerClient        = "maxItemsPerClient"
	FieldExpirationIntervalPerUse = "expirationIntervalPerUse"
	FieldMaxUsage                 = "maxUsage"
	FieldQuantity                 = "quantity"
	// FieldItems is a list input as a whole (empty, or too many in total),
	// or the number of items of an order being redeemed.
	FieldItems = "items"
	FieldLimit = "limit"
	// FieldCursor is a paging cursor handed out by a previous page.
	FieldCursor          = "cursor"
	FieldSort            = "sort"
	FieldEmail           = "email"
	FieldPassword        = "password"
	FieldCurrentPassword = "currentPassword"
	FieldNewPassword     = "newPassword"
	FieldRole            = "role"
	FieldName            = "name"
	FieldScope           = "scope"
)

// Promotion, redemption and validation fields.
const (
	FieldDescription       = "description"
	FieldStatus            = "status"
	FieldState             = "state"
	FieldKind              = "kind"
	FieldDiscountType      = "discountType"
	FieldDiscountValue     = "discountValue"
	FieldDiscountCap       = "discountCap"
	FieldAppliesTo         = "appliesTo"
	FieldBeginsAt          = "beginsAt"
	FieldEndsAt            = "endsAt"
	FieldMaxUsagePerClient = "maxUsagePerClient"
	FieldCustomerID        = "customerId"
	FieldOrderID           = "orderId"
	FieldOrderAmount       = "orderAmount"
	FieldUTM               = "utm"
	// FieldRedeemedAt is when a redemption recorded after the fact
	// happened.
	FieldRedeemedAt = "redeemedAt"
)

// Generation fields: a batch's promotion and its code format, whose
// parts are named under "format.".
const (
	FieldPromotionID     = "promotionId"
	FieldFormat          = "format"
	FieldFormatPrefix    = "format.prefix"
	FieldFormatSuffix    = "format.suffix"
	FieldFormatDelimiter = "format.delimiter"
	FieldFormatLength    = "format.length"
	FieldFormatCharset   = "format.charset"
	FieldFormatExclude   = "format.exclude"
	FieldFormatPattern   = "format.pattern"
	FieldFormatCheck     = "format.check"
)

// Fields of a promotion's codes: one code's id, a list of ids, and the
// cursors that page forwards (after) and backwards (before).
const (
	FieldID     = "id"
	FieldIDs    = "ids"
	FieldAfter  = "after"
	FieldBefore = "before"
)

// FieldFrom and FieldTo bound a period: its start, included, and its
// end, left out.
const (
	FieldFrom = "from"
	FieldTo   = "to"
)
