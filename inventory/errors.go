package inventory

import "errors"

// ErrBadInventory: a file is not an inventory: not strict JSON, not the
// expected shape (unknown or missing fields, another mediaType), or with
// an invalid digest, size or tag, or a blob listed twice.
var ErrBadInventory = errors.New("not a valid inventory")
