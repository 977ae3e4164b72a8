package subscription

import "slices"

// UserReasons lists the reasons a user may give for canceling, for the
// published contract.
func UserReasons() []string { return slices.Clone(userReasons) }
