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
	// FieldItems is a list input as a whole: empty, or too many in total.
	FieldItems = "items"
	FieldLimit = "limit"
	// FieldCursor is a paging cursor handed out by a previous page.
	FieldCursor          = "cursor"
	FieldEmail           = "email"
	FieldPassword        = "password"
	FieldCurrentPassword = "currentPassword"
	FieldNewPassword     = "newPassword"
	FieldRole            = "role"
	FieldName            = "name"
	FieldScope           = "scope"
)
