package bitmapist

// Tracked marks a GORM model whose creates, updates and deletes the
// bitmapist GORM plugin (package bitmapistplugin) records as
// <model>:created, <model>:updated and <model>:deleted events, like
// flask-bitmapist's Bitmapistable mixin. Embed it:
//
//	type User struct {
//		ID uint
//		bitmapist.Tracked
//	}
//
// It is an empty struct: it adds no column and no bytes to the model.
type Tracked struct{}

// BitmapistTracked is the method by which the plugin recognises models
// that embed Tracked; it is promoted to the embedding type.
func (Tracked) BitmapistTracked() {}

// TrackedModel is implemented by every type that embeds Tracked.
type TrackedModel interface {
	BitmapistTracked()
}
