package bitmapist

import (
	"context"
	"errors"
	"slices"

	"github.com/redis/go-redis/v9"
)

// idChunk is how many bytes of a bitmap IDs reads per GETRANGE.
const idChunk = 256 << 10

// streamIDs lists the set bits of key without loading the whole string:
// BITPOS finds the next set bit (Redis scans the zero bytes, none of them
// cross the network), then one GETRANGE reads up to idChunk bytes from
// there. A 90 MB bitmap holding one id near 739,000,000 costs one chunk of
// client memory, not 90 MB.
// On bitmapist-server, which has neither BITPOS nor GETRANGE, it reads the
// whole key with one GET (the server's GET ends at the highest set bit).
func (c *Client) streamIDs(ctx context.Context, key string) ([]uint64, error) {
	ids := []uint64{}
	server, err := c.onServer(ctx)
	if err != nil {
		return nil, err
	}
	if server {
		b, err := c.rdb.Get(ctx, key).Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, c.wrapRead("ids", err)
		}
		return Bitmap(b).IDs(), nil
	}
	var start int64
	for {
		pos, err := c.rdb.BitPos(ctx, key, 1, start).Result()
		if err != nil {
			return nil, c.wrapRead("ids", err)
		}
		if pos < 0 {
			return ids, nil
		}
		from := pos / 8
		chunk, err := c.rdb.GetRange(ctx, key, from, from+idChunk-1).Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, c.wrapRead("ids", err)
		}
		ids = slices.Grow(ids, int(Bitmap(chunk).Count()))
		ids = appendIDs(ids, chunk, uint64(from)*8)
		if len(chunk) < idChunk {
			return ids, nil
		}
		start = from + idChunk
	}
}
