package lostperson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/registry"
)

// MessageStatus is where a notification stands.
type MessageStatus string

const (
	MessagePending   MessageStatus = "pending"
	MessageDelivered MessageStatus = "delivered"
	MessageFailed    MessageStatus = "failed" // gave up after OutboxConfig.MaxAttempts
)

// Message is one notification in the outbox. It is written in the same transaction as the
// change it announces, and delivered afterwards, so a crash loses neither.
type Message struct {
	ID          string
	Kind        string // "verification_code", "username_taken", "result", "correction"
	Contact     Contact
	Reference   string // the registration or application
	Subject     string
	Body        string
	Status      MessageStatus
	Attempts    int
	NextAt      time.Time
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
}

func (s *Service) message(now time.Time, kind string, c Contact, ref, subject, body string) *Message {
	return &Message{ID: registry.NewID(), Kind: kind, Contact: c, Reference: ref, Subject: subject, Body: body,
		Status: MessagePending, NextAt: now, CreatedAt: now}
}

// OutboxConfig tunes delivery; zero values take the defaults.
type OutboxConfig struct {
	// WebhookURL receives each message as a JSON POST (an e-mail or SMS gateway). Empty keeps
	// messages pending until one is configured.
	WebhookURL   string
	Interval     time.Duration // how often the outbox is polled (2 s)
	Timeout      time.Duration // per delivery attempt (10 s)
	BaseBackoff  time.Duration // wait after the first failure, doubling after each (10 s)
	MaxBackoff   time.Duration // the longest wait between attempts (1 h)
	MaxAttempts  int           // attempts before a message is marked failed (10)
	Batch        int           // messages per poll (50)
	ClaimTimeout time.Duration // how long a claimed message is left to its claimer (1 min)
}

// OutboxDeps are what an Outbox is built from.
type OutboxDeps struct {
	Repo    OutboxRepo
	Client  *http.Client // defaults to one with OutboxConfig.Timeout
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	Now     func() time.Time
	// Console, when set and no webhook is configured, is where messages are delivered: written
	// out for whoever runs the process to read. The demo sets it to its terminal, so that a
	// citizen trying it can finish registering; a real deployment delivers through its gateway.
	Console io.Writer
}

// Outbox delivers notifications to the webhook, retrying with exponential backoff.
type Outbox struct {
	cfg       OutboxConfig
	repo      OutboxRepo
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time
	console   io.Writer
	delivered *prometheus.CounterVec
}

// NewOutbox builds the outbox runner.
func NewOutbox(cfg OutboxConfig, d OutboxDeps) (*Outbox, error) {
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&cfg.Interval, 2*time.Second)
	def(&cfg.Timeout, 10*time.Second)
	def(&cfg.BaseBackoff, 10*time.Second)
	def(&cfg.MaxBackoff, time.Hour)
	def(&cfg.ClaimTimeout, time.Minute)
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if d.Client == nil {
		d.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	o := &Outbox{cfg: cfg, repo: d.Repo, client: d.Client, log: d.Logger, now: d.Now, console: d.Console}
	o.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "civicam_outbox_attempts_total", Help: "Notification delivery attempts by result (delivered, retry, failed).",
	}, []string{"result"})
	if d.Metrics != nil {
		if err := d.Metrics.Register(o.delivered); err != nil {
			return nil, fmt.Errorf("outbox metrics: %w", err)
		}
	}
	return o, nil
}

// Run delivers due messages every interval until ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	if o.cfg.WebhookURL == "" && o.console == nil {
		// Nothing would say why a citizen's code never arrives.
		o.log.Warn("applications.webhook_url is not set: verification codes and result notices wait in the outbox until it is")
	}
	t := time.NewTicker(o.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := o.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			o.log.Error("outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// DeliverDue makes one pass over the due messages and reports how many were delivered.
func (o *Outbox) DeliverDue(ctx context.Context) (int, error) {
	if o.cfg.WebhookURL == "" && o.console == nil {
		return 0, nil
	}
	now := o.now().UTC()
	due, err := o.repo.DueMessages(ctx, now, o.cfg.Batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range due {
		ok, err := o.repo.ClaimMessage(ctx, m.ID, m.NextAt, now.Add(o.cfg.ClaimTimeout))
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		err = o.send(ctx, m)
		m.Attempts++
		switch {
		case err == nil:
			m.Status, m.DeliveredAt, m.LastError = MessageDelivered, o.now().UTC(), ""
			o.delivered.WithLabelValues("delivered").Inc()
			n++
		case m.Attempts >= o.cfg.MaxAttempts:
			m.Status, m.LastError = MessageFailed, err.Error()
			o.delivered.WithLabelValues("failed").Inc()
			o.log.Error("notification failed for good", "message", m.ID, "kind", m.Kind, "attempts", m.Attempts, "err", err)
		default:
			m.LastError = err.Error()
			m.NextAt = o.now().UTC().Add(o.backoff(m.Attempts))
			o.delivered.WithLabelValues("retry").Inc()
			o.log.Warn("notification will be retried", "message", m.ID, "attempts", m.Attempts, "next", m.NextAt, "err", err)
		}
		if err := o.repo.UpdateMessage(ctx, m); err != nil {
			return n, err
		}
	}
	return n, nil
}

// backoff is the wait after the given number of failed attempts.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.cfg.BaseBackoff
	for i := 1; i < attempts && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.cfg.MaxBackoff)
}

// webhookMessage is what the gateway receives.
type webhookMessage struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	To        Contact `json:"to"`
	Subject   string  `json:"subject"`
	Text      string  `json:"text"`
	Reference string  `json:"reference"`
}

func (o *Outbox) send(ctx context.Context, m *Message) error {
	if o.cfg.WebhookURL == "" {
		_, err := fmt.Fprintf(o.console, "\n[outbox] to %s %s: %s\n%s\n", m.Contact.Kind, m.Contact.Address, m.Subject, m.Body)
		return err
	}
	body, err := json.Marshal(webhookMessage{ID: m.ID, Kind: m.Kind, To: m.Contact, Subject: m.Subject, Text: m.Body, Reference: m.Reference})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	// The id lets the gateway drop a duplicate when an acknowledgement was lost.
	req.Header.Set("Idempotency-Key", m.ID)
	res, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", res.Status)
	}
	return nil
}
