package bitmapistplugin

// Stats is a snapshot of the plugin's health since New (see
// (*Plugin).Stats). Counts are of marks (one event for one user), not of
// statements.
type Stats struct {
	// Sent is how many marks were written to Redis.
	Sent int64
	// Failed is how many marks of committed writes were not recorded and
	// are not kept anywhere for a later try (FailedMarks): Redis errors,
	// timeouts before the write was sent, a full queue, unsupported keys,
	// and marks not sent while the breaker was open. With WithOutbox marks
	// that could not be sent stay in the outbox and are not counted here.
	// Marks whose send's outcome is unknown are in UnknownSent, never here.
	Failed int64
	// Unknown is how many marks belonged to transactions whose commit
	// outcome is unknown (UnknownMarks, a *CommitUnknownError): they were
	// not sent, and their rows may or may not exist.
	Unknown int64
	// UnknownSent is how many marks of committed writes were sent to Redis
	// with no reply confirming them (UnknownSentMarks, a *SendError whose
	// Err wraps bitmapist.ErrUnknownOutcome): a timeout or lost connection
	// after the write was sent, or a send still running when its wait
	// ended. They may be recorded or not, and are not kept for a later try
	// (marking is idempotent: resending them is harmless). Default and
	// WithQueue modes only: with WithOutbox they stay in the outbox and are
	// resent.
	UnknownSent int64
	// Skipped is how many marks were not sent, and are lost, because the
	// breaker was open (all are included in Failed). Default and WithQueue
	// modes only: with WithOutbox such marks are Deferred.
	Skipped int64
	// Deferred is how many marks (WithOutbox only) were not sent at commit
	// because the breaker was open, and stayed in the outbox for the relay
	// to send once Redis is back; they are neither Failed nor lost.
	Deferred int64
	// Queued is how many commits' batches wait in the background queue
	// (WithQueue; 0 otherwise).
	Queued int
	// OutboxPending is how many rows the outbox table held at the relay's
	// last look (at most a second old while the relay runs; -1 without
	// WithOutbox, or before the relay's first look).
	OutboxPending int64
	// Breaker is the circuit breaker's state: BreakerClosed, BreakerOpen or
	// BreakerHalfOpen.
	Breaker string
	// BreakerOpens is how many times the breaker opened.
	BreakerOpens int64
}

// Stats returns the plugin's counters and state now. It is cheap (no
// database or Redis call) and safe for concurrent use.
func (p *Plugin) Stats() Stats {
	s := Stats{
		Sent:          p.sent.Load(),
		Failed:        p.failed.Load(),
		Unknown:       p.unknown.Load(),
		UnknownSent:   p.unknownSent.Load(),
		Skipped:       p.skippedTotal.Load(),
		Deferred:      p.deferredTotal.Load(),
		Queued:        len(p.queue),
		OutboxPending: -1,
		Breaker:       p.brk.state(),
		BreakerOpens:  p.brk.opens.Load(),
	}
	if p.outbox != nil {
		s.OutboxPending = p.outbox.pending.Load()
	}
	return s
}
