package bitmapistplugin

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// MeterName is the instrumentation scope name of the plugin's
// OpenTelemetry meter (WithMeterProvider).
const MeterName = "github.com/bitmapist-go/bitmapist/gormplugin"

// WithMeterProvider reports the plugin's Stats as OpenTelemetry metrics
// through mp (off by default; nil keeps it off). As gorm's own
// opentelemetry plugin does for database/sql's DBStats, the values are
// observable instruments read from Stats when mp's reader collects, so
// marking costs nothing more:
//
//	bitmapist.marks.sent          counter  {mark}  Stats.Sent
//	bitmapist.marks.failed        counter  {mark}  Stats.Failed
//	bitmapist.marks.unknown       counter  {mark}  Stats.Unknown
//	bitmapist.marks.unknown_sent  counter  {mark}  Stats.UnknownSent
//	bitmapist.marks.skipped       counter  {mark}  Stats.Skipped
//	bitmapist.marks.deferred      counter  {mark}  Stats.Deferred
//	bitmapist.queue.pending       gauge    {batch} Stats.Queued
//	bitmapist.outbox.pending      gauge    {mark}  Stats.OutboxPending (only with WithOutbox)
//	bitmapist.breaker.state       gauge    1       0 closed, 1 half-open, 2 open
//	bitmapist.breaker.opens       counter  {open}  Stats.BreakerOpens
//
// A failure to register them is reported to the error handler once, at
// New. Close unregisters them.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(p *Plugin) { p.meterProvider = mp }
}

// registerMetrics registers the observable instruments of p.
func (p *Plugin) registerMetrics() error {
	m := p.meterProvider.Meter(MeterName)
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err != nil {
			p.metricsErr = err
		}
		return c
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err != nil {
			p.metricsErr = err
		}
		return g
	}
	sent := counter("bitmapist.marks.sent", "{mark}", "Marks written to Redis")
	failed := counter("bitmapist.marks.failed", "{mark}", "Marks of committed writes not recorded")
	unknown := counter("bitmapist.marks.unknown", "{mark}", "Marks of transactions whose commit outcome is unknown")
	unknownSent := counter("bitmapist.marks.unknown_sent", "{mark}", "Marks sent to Redis with no reply confirming them")
	skipped := counter("bitmapist.marks.skipped", "{mark}", "Marks not sent, and lost, while the circuit breaker was open")
	deferred := counter("bitmapist.marks.deferred", "{mark}", "Marks not sent while the circuit breaker was open, kept in the outbox")
	queued := gauge("bitmapist.queue.pending", "{batch}", "Batches waiting in the background queue")
	state := gauge("bitmapist.breaker.state", "1", "Circuit breaker state: 0 closed, 1 half-open, 2 open")
	opens := counter("bitmapist.breaker.opens", "{open}", "Times the circuit breaker opened")
	insts := []metric.Observable{sent, failed, unknown, unknownSent, skipped, deferred, queued, state, opens}
	var outbox metric.Int64ObservableGauge
	if p.outbox != nil {
		outbox = gauge("bitmapist.outbox.pending", "{mark}", "Rows in the outbox table at the relay's last look")
		insts = append(insts, outbox)
	}
	if p.metricsErr != nil {
		return fmt.Errorf("bitmapistplugin: metrics: %w", p.metricsErr)
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := p.Stats()
		o.ObserveInt64(sent, s.Sent)
		o.ObserveInt64(failed, s.Failed)
		o.ObserveInt64(unknown, s.Unknown)
		o.ObserveInt64(unknownSent, s.UnknownSent)
		o.ObserveInt64(skipped, s.Skipped)
		o.ObserveInt64(deferred, s.Deferred)
		o.ObserveInt64(queued, int64(s.Queued))
		o.ObserveInt64(state, breakerGauge(s.Breaker))
		o.ObserveInt64(opens, s.BreakerOpens)
		if outbox != nil && s.OutboxPending >= 0 {
			o.ObserveInt64(outbox, s.OutboxPending)
		}
		return nil
	}, insts...)
	if err != nil {
		return fmt.Errorf("bitmapistplugin: metrics: %w", err)
	}
	p.metricsReg = reg
	return nil
}

// breakerGauge maps a breaker state to bitmapist.breaker.state's value.
func breakerGauge(state string) int64 {
	switch state {
	case BreakerHalfOpen:
		return 1
	case BreakerOpen:
		return 2
	}
	return 0
}
