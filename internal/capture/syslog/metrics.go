package syslog

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the listener's Prometheus collectors, lbm_syslog_*.
type metrics struct {
	messages *prometheus.CounterVec   // transport, format ("unparsed" for unparsed)
	bytes    *prometheus.CounterVec   // transport
	open     *prometheus.GaugeVec     // transport
	refused  *prometheus.CounterVec   // transport, reason
	dropped  *prometheus.CounterVec   // reason
	errors   *prometheus.CounterVec   // reason
	batch    *prometheus.HistogramVec // transport
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbm_syslog_messages_total", Help: "Syslog messages read, by transport and format (unparsed: kept raw).",
		}, []string{"transport", "format"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbm_syslog_bytes_total", Help: "Bytes of syslog messages read, without framing.",
		}, []string{"transport"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lbm_syslog_connections_open", Help: "Syslog TCP and TLS connections open.",
		}, []string{"transport"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbm_syslog_connections_refused_total", Help: "Syslog connections refused: limit (too many open) or handshake (TLS failed).",
		}, []string{"transport", "reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbm_syslog_dropped_total", Help: "Syslog messages read but not stored, by why (UDP has no flow control; TCP only after retries fail or at shutdown).",
		}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lbm_syslog_submit_errors_total", Help: "Failed submissions of a batch (each is retried), by why.",
		}, []string{"reason"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lbm_syslog_batch_duration_seconds", Help: "Time to submit one batch until it is durable.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"transport"}),
	}
	for _, r := range []string{reasonRateLimited, reasonOverloaded, reasonError, reasonShutdown} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{reasonRateLimited, reasonOverloaded, reasonUnknownSource, reasonError} {
		m.errors.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.messages, m.bytes, m.open, m.refused, m.dropped, m.errors, m.batch} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, errors.New("registering the syslog metrics: a syslog listener is already registered")
			}
			return nil, err
		}
	}
	return m, nil
}
