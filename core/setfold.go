package bitmapist

// EvalSet computes s in memory with leaf(key) giving the bitmap of each
// of s's keys (Set.Keys), with the results Redis BITOP would give (as
// Snapshot.Bitmap does): a nil leaf result reads as an empty (missing)
// key. The bitmaps given may be parts of the keys' bitmaps, all starting
// at the same byte offset (a stripe); Not then flips the bytes of each
// part, so a part must run to the end of its key or to the end of the
// stripe. The result may share memory with the leaves (it never writes
// into them): treat it as read-only. A nil s gives nil. A report's
// segment is evaluated with EvalSegment instead.
func EvalSet(s Set, leaf func(key string) Bitmap) Bitmap {
	if s == nil {
		return nil
	}
	return evalExpr(s.expr(), leaf)
}

// EvalSegment computes seg in memory as a report's segment over the
// first width bytes of the ids (the bitmaps leaf gives all start at the
// same byte, as in EvalSet): like EvalSet, except that Not(a) is every id
// of those width bytes that is not in a, whatever a's length (a missing
// or all-zero key's Not holds them all). This is the segment rule of
// every report (Trend and package cohort's): the segment is ANDed into
// user sets that all lie within the width bytes, so S AND Not(a) is S
// AndNot a, "the users of S who are not in a", where Redis's BITOP NOT
// would also drop the users of S past a's last byte. The result may share
// memory with the leaves: treat it as read-only. A nil seg gives nil.
func EvalSegment(seg Set, width int, leaf func(key string) Bitmap) Bitmap {
	if isNilSet(seg) {
		return nil
	}
	return evalIn(seg.expr(), leaf, width)
}

// SetOp names the operations FoldSet hands to its op function.
type SetOp string

// The operations of a Set, with Redis BITOP's names (AndNot is the true
// difference, see AndNot; Empty, the set of no users, has no argument).
const (
	SetAnd    SetOp = "AND"
	SetOr     SetOp = "OR"
	SetXor    SetOp = "XOR"
	SetNot    SetOp = "NOT"
	SetAndNot SetOp = "ANDNOT"
	SetEmpty  SetOp = "EMPTY"
)

// FoldSet walks s's tree bottom up: leaf(key) for each key, op(kind,
// args) for each operation with its operands' results in order (AndNot
// has two, Not one, Empty none, the others two or more). It lets another
// evaluator (package cohort's, in BITOPs on bitmapist-server) compute a
// Set; it reads nothing itself. A nil s gives op(SetEmpty, nil).
func FoldSet[T any](s Set, leaf func(key string) T, op func(kind SetOp, args []T) T) T {
	if s == nil {
		return op(SetEmpty, nil)
	}
	return foldExpr(s.expr(), leaf, op)
}

func foldExpr[T any](e *expr, leaf func(string) T, op func(SetOp, []T) T) T {
	if e.op == opKey {
		return leaf(e.key)
	}
	args := make([]T, len(e.args))
	for i, a := range e.args {
		args[i] = foldExpr(a, leaf, op)
	}
	return op(SetOp(opNames[e.op]), args)
}
