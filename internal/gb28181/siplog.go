package gb28181

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// sipgo v1.7.4 logs through a process-wide logger of its own (sip.DefaultLogger, slog.Default
// unless set), not the one each UA, server and client is given. One of its warnings is its own
// bookkeeping error, not ours: closing a UA hard-closes every TCP connection of its pool, which
// sets the connection's reference count to 0, and then the connection's own read loop, ending,
// releases its reference again (TransportTCP.readConnection → ConnectionPool.CloseAndDelete →
// TCPConnection.TryClose), taking the count to -1 and logging "TCP ref went negative" for every
// TCP connection at every shutdown. QuietSIPLog drops that one message (and its UDP twin, the
// same path); everything else sipgo logs still goes to slog.Default, as it did.
var quietOnce sync.Once

// QuietSIPLog installs, once per process, sipgo's default logger without its reference-count
// noise (see above). New and the simulated devices call it before they start any sipgo
// goroutine, since sipgo reads its logger unsynchronised.
func QuietSIPLog() {
	quietOnce.Do(func() { sip.SetDefaultLogger(slog.New(refNoiseFilter{})) })
}

// refNoiseFilter passes records to slog.Default's handler of the moment, less the noise; h is
// set once attributes or a group were added.
type refNoiseFilter struct{ h slog.Handler }

func (f refNoiseFilter) handler() slog.Handler {
	if f.h != nil {
		return f.h
	}
	return slog.Default().Handler()
}

func (f refNoiseFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return f.handler().Enabled(ctx, l)
}

func (f refNoiseFilter) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasSuffix(r.Message, "ref went negative") || strings.HasSuffix(r.Message, "ref went negative on try close") {
		return nil
	}
	return f.handler().Handle(ctx, r)
}

func (f refNoiseFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return refNoiseFilter{h: f.handler().WithAttrs(as)}
}

func (f refNoiseFilter) WithGroup(name string) slog.Handler {
	return refNoiseFilter{h: f.handler().WithGroup(name)}
}
