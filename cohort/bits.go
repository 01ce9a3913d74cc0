package cohort

import (
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// andAll returns the intersection of fs: fs[0] itself (shared) for one
// bitmap, a new bitmap for several.
func andAll(fs []bitmapist.Bitmap) bitmapist.Bitmap {
	r := fs[0]
	for _, f := range fs[1:] {
		r = r.And(f)
	}
	return r
}
