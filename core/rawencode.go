package bitmapist

import (
	"strconv"
	"time"
)

// rawKey is one key a MarkEvents call writes, with its RESP bulk string
// ("$<n>\r\n<key>\r\n") built once.
type rawKey struct {
	key   string
	bulk  []byte
	group TimeGroup // Years stands for the period-less unique key
}

// rawSlot is the keys of one (event, hour): indexes into rawEncoder.keys
// of its month, week, day, hour and unique keys.
type rawSlot [5]int32

// rawOp is one bit to set or clear.
type rawOp struct {
	key   int32 // index into rawEncoder.keys
	clear bool
	id    uint64
}

// rawEncoder turns a chunk of marks into RESP: the bits are grouped by key
// (a stable counting sort, so a mark and an unmark of one bit keep their
// order) and written as one BITFIELD ... SET u1 <id> 1 ... per key, or, on
// servers without BITFIELD (miniredis, bitmapist-server), as one SETBIT per
// bit. Either way the same keys get the same bits.
type rawEncoder struct {
	c        *Client
	cfg      markConfig
	now      time.Time
	utc      bool // periods cut in UTC: the hour is unix/3600, no calendar maths
	bitfield bool // group each key's bits into one BITFIELD
	events   map[string]map[int64]*rawSlot
	last     string // the event of the previous mark, and its slots
	slots    map[int64]*rawSlot
	keys     []rawKey
	keyIndex map[string]int32
	buf      []byte
	ops      []rawOp
	sorted   []rawOp
	count    []int32 // per key: ops in this chunk, then the write position
	touched  []int32 // keys of this chunk, in first-touch order
	// perKey, when set, appends commands run once per key and chunk (for
	// example an EXPIRE) after that key's bits, and returns how many it
	// appended.
	perKey func(dst []byte, key string, group TimeGroup) ([]byte, int)
}

func newRawEncoder(c *Client, cfg markConfig, now time.Time, bitfield bool) *rawEncoder {
	return &rawEncoder{c: c, cfg: cfg, now: now, utc: c.loc == time.UTC, bitfield: bitfield,
		events: map[string]map[int64]*rawSlot{}, keyIndex: map[string]int32{}, buf: make([]byte, 0, 64)}
}

// slotOf returns the keys of mk's event and hour.
func (e *rawEncoder) slotOf(mk *Mark) *rawSlot {
	at := mk.Time
	if at.IsZero() {
		at = e.now
	}
	if e.slots == nil || mk.Event != e.last {
		e.slots = e.events[mk.Event]
		if e.slots == nil {
			e.slots = map[int64]*rawSlot{}
			e.events[mk.Event] = e.slots
		}
		e.last = mk.Event
	}
	var hour int64
	if e.utc {
		s := at.Unix()
		hour = s / 3600
		if s%3600 < 0 {
			hour--
		}
	} else {
		at = at.In(e.c.loc)
		y, m, d := at.Date()
		hour = ((int64(y)*13+int64(m))*32+int64(d))*24 + int64(at.Hour())
	}
	sl := e.slots[hour]
	if sl == nil {
		sl = e.newSlot(mk.Event, at.In(e.c.loc))
		e.slots[hour] = sl
	}
	return sl
}

// slotGroups are the groups of a rawSlot's keys, in order; Years stands
// for the period-less unique key.
var slotGroups = [5]TimeGroup{Months, Weeks, Days, Hours, Years}

// newSlot finds or adds the keys of event at t (in the client's location).
func (e *rawEncoder) newSlot(event string, t time.Time) *rawSlot {
	sl := &rawSlot{}
	for i, g := range slotGroups {
		if g == Years {
			e.buf = append(e.buf[:0], e.c.UniqueKey(event)...)
		} else {
			e.buf = e.c.appendKey(e.buf[:0], event, g, t)
		}
		idx, ok := e.keyIndex[string(e.buf)]
		if !ok {
			k := string(e.buf)
			bulk := appendBulk(make([]byte, 0, len(k)+8), k)
			idx = int32(len(e.keys))
			e.keys = append(e.keys, rawKey{key: k, bulk: bulk, group: g})
			e.keyIndex[k] = idx
			e.count = append(e.count, 0)
		}
		sl[i] = idx
	}
	return sl
}

// appendChunk appends the commands of marks (without MULTI/EXEC) to dst and
// returns dst and the number of commands appended.
func (e *rawEncoder) appendChunk(dst []byte, marks []Mark) ([]byte, int) {
	e.ops = e.ops[:0]
	for i := range marks {
		mk := &marks[i]
		sl := e.slotOf(mk)
		for g := range 5 {
			if (g == 3 && !e.cfg.hourly) || (g == 4 && !e.cfg.unique) {
				continue
			}
			e.ops = append(e.ops, rawOp{key: sl[g], clear: mk.Unmark, id: mk.UserID})
		}
	}
	e.sortOps()
	n := 0
	for at := 0; at < len(e.sorted); {
		key := e.sorted[at].key
		end := at + 1
		for end < len(e.sorted) && e.sorted[end].key == key {
			end++
		}
		var k int
		dst, k = e.appendKeyOps(dst, &e.keys[key], e.sorted[at:end])
		n += k
		if e.perKey != nil {
			dst, k = e.perKey(dst, e.keys[key].key, e.keys[key].group)
			n += k
		}
		at = end
	}
	return dst, n
}

// sortOps sorts e.ops by key into e.sorted, stably, in linear time.
func (e *rawEncoder) sortOps() {
	e.touched = e.touched[:0]
	for _, op := range e.ops {
		if e.count[op.key] == 0 {
			e.touched = append(e.touched, op.key)
		}
		e.count[op.key]++
	}
	pos := int32(0)
	for _, k := range e.touched {
		n := e.count[k]
		e.count[k] = pos
		pos += n
	}
	e.sorted = append(e.sorted[:0], e.ops...)
	for _, op := range e.ops {
		e.sorted[e.count[op.key]] = op
		e.count[op.key]++
	}
	for _, k := range e.touched {
		e.count[k] = 0
	}
}

// appendKeyOps appends the bits ops of one key: one BITFIELD, or one
// SETBIT per bit. It returns the number of commands.
func (e *rawEncoder) appendKeyOps(dst []byte, k *rawKey, ops []rawOp) ([]byte, int) {
	if e.bitfield {
		dst = append(dst, '*')
		dst = strconv.AppendInt(dst, int64(2+4*len(ops)), 10)
		dst = append(dst, "\r\n$8\r\nBITFIELD\r\n"...)
		dst = append(dst, k.bulk...)
		for _, op := range ops {
			dst = append(dst, "$3\r\nSET\r\n$2\r\nu1\r\n"...)
			dst = appendBit(dst, op)
		}
		return dst, 1
	}
	for _, op := range ops {
		dst = append(dst, "*4\r\n$6\r\nSETBIT\r\n"...)
		dst = append(dst, k.bulk...)
		dst = appendBit(dst, op)
	}
	return dst, len(ops)
}

// appendBit appends "$<n>\r\n<id>\r\n$1\r\n<0|1>\r\n".
func appendBit(dst []byte, op rawOp) []byte {
	var digits [20]byte
	id := strconv.AppendUint(digits[:0], op.id, 10)
	dst = append(dst, '$')
	if len(id) >= 10 {
		dst = append(dst, byte('0'+len(id)/10))
	}
	dst = append(dst, byte('0'+len(id)%10), '\r', '\n')
	dst = append(dst, id...)
	if op.clear {
		return append(dst, "\r\n$1\r\n0\r\n"...)
	}
	return append(dst, "\r\n$1\r\n1\r\n"...)
}
