package lostperson

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	received      *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	results       *prometheus.CounterVec
	timeToResult  prometheus.Histogram
	searchSeconds prometheus.Histogram
}

// openCollector reports the open and overdue applications at scrape time, read from the store
// so that every node of a cluster reports the same numbers.
type openCollector struct {
	s             *Service
	open, overdue *prometheus.Desc
}

func (c *openCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.open; ch <- c.overdue }

func (c *openCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	q, err := c.s.ReviewQueue(ctx, []Status{StatusSubmitted, StatusAccepted}, 100_000)
	if err != nil {
		c.s.log.Error("application metrics", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(len(q.Applications)))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(q.Overdue))
}

// hour in seconds, for histogram buckets.
const hour = 60 * 60

func newMetrics(reg prometheus.Registerer, s *Service) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civicam_applications_received_total",
			Help: "Lost-person applications received, by eligibility (eligible or the refusal code).",
		}, []string{"eligibility"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civicam_application_decisions_total", Help: "Police decisions on applications (accepted, rejected).",
		}, []string{"decision"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "civicam_application_results_total", Help: "Result notices written, by outcome.",
		}, []string{"outcome"}),
		timeToResult: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "civicam_application_time_to_result_seconds", Help: "Seconds from submission to the result notice.",
			// 1 h … 10 days: the pack's deadlines are hours to days apart.
			Buckets: []float64{1 * hour, 2 * hour, 4 * hour, 8 * hour, 12 * hour, 24 * hour, 48 * hour, 72 * hour, 120 * hour, 240 * hour},
		}),
		searchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "civicam_candidate_search_seconds", Help: "Time to find the candidate cameras of an application.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 12),
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.received, m.decisions, m.results, m.timeToResult, m.searchSeconds,
		&openCollector{s: s,
			open:    prometheus.NewDesc("civicam_applications_open", "Applications waiting for triage or under review.", nil, nil),
			overdue: prometheus.NewDesc("civicam_applications_overdue", "Open applications past a step's deadline.", nil, nil)},
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
