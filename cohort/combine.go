package cohort

import (
	"math/rand/v2"
	"strconv"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// bitop is one BITOP that readWindows runs before its reads, in the same
// MULTI/EXEC: dst = op(keys...), op "AND" or "OR".
type bitop struct {
	op   string
	dst  string
	keys []string
}

// combine plans, for a single Redis, the BITOPs that leave period k's
// return set (the AND of p.groups, each the OR of its events' keys, as
// returnFactors computes it in memory) in one temporary key, so that a
// table reads one bitmap per return period instead of one per event. It
// returns that key and the BITOPs, each writing a new temporary key named
// like core's (<prefix>bitop_<OP>_<random>, which event listings leave
// out); the last one writes the returned key. When the return set is one
// stored key (one event, not a year), it returns "" and no BITOP: that key
// is read as it is.
func (p *plan) combine(c *bitmapist.Client, k int) (string, []bitop) {
	var ops []bitop
	ands := make([]string, 0, len(p.groups))
	for _, grp := range p.groups {
		var keys []string
		for _, e := range grp {
			keys = append(keys, p.ret[k][e]...)
		}
		if len(keys) == 1 {
			ands = append(ands, keys[0])
			continue
		}
		dst := tempKey(c, "OR")
		ops = append(ops, bitop{op: "OR", dst: dst, keys: keys})
		ands = append(ands, dst)
	}
	if len(ands) == 1 {
		if len(ops) == 0 {
			return "", nil
		}
		return ands[0], ops
	}
	dst := tempKey(c, "AND")
	return dst, append(ops, bitop{op: "AND", dst: dst, keys: ands})
}

// tempKey returns a new temporary key name for a BITOP op.
func tempKey(c *bitmapist.Client, op string) string {
	return c.Prefix() + "bitop_" + op + "_" + strconv.FormatUint(rand.Uint64(), 36)
}
