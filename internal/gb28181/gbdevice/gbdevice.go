// Package gbdevice is a simulated GB/T 28181 device or NVR, the device side of the platform's
// SIP: it registers (answering a digest challenge), sends keepalives, refreshes and ends its
// registration, and answers the platform's Catalog, DeviceInfo, DeviceStatus and RecordInfo
// queries (recording around the clock in files of an hour), with
// its channel names in GBK as many real devices send them. Invited to play a channel, it sends
// the embedded clip as PS over RTP (UDP, or TCP either way round) until BYE. `civicam simcam --gb28181` runs
// these, and the platform's tests talk to them.
package gbdevice

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"golang.org/x/text/encoding/simplifiedchinese"

	"civicam/internal/gb28181"
	"civicam/internal/gb28181/sdp"
	"civicam/internal/mpegps"
	"civicam/internal/simcam"
)

// Channel is one channel the device lists in its catalog.
type Channel struct {
	ID, Name string
}

// Config configures a device.
type Config struct {
	// ID is the device's 20-digit id, Name what DeviceInfo says it is.
	ID, Name string
	// Server is the platform's SIP address (host:port); ServerID its 20-digit id, Domain its
	// 10-digit domain.
	Server, ServerID, Domain string
	// Transport is udp or tcp.
	Transport string
	// LocalIP is the address the device sends from; default the loopback or host the server is
	// reached at. Several devices on addresses of their own (127.x.y.z) are devices on hosts of
	// their own, as a city's cameras are; on one address, they are devices behind one NAT.
	LocalIP string
	// Password answers the platform's digest challenge; empty registers without.
	Password string
	// Channels are listed in the catalog.
	Channels []Channel
	// Keepalive is Run's heartbeat period (default 60s); Expires the registration's (default 3600s).
	Keepalive time.Duration
	Expires   int
	// PerMessage is how many catalog items one MESSAGE carries (default 1 over UDP, whose
	// datagrams must stay under the MTU, and 20 over TCP).
	PerMessage int
	// UTF8 sends bodies in UTF-8; by default they are GB2312 (GBK) as most devices send them.
	UTF8 bool
	// Video is the codec of the clip a play sends (default H.264).
	Video simcam.Codec
	// Bitrate pads the clip to this many bits per second, as simcam pads its RTSP streams
	// (simcam.Clip.WithBitrate); 0 sends the clip as it is (about 0.5 Mbit/s).
	Bitrate int64
}

// Device is one simulated device.
type Device struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	pc     net.PacketConn // UDP: the one socket sent from and listened on

	mu    sync.Mutex
	sn    int
	plays map[string]*play // by Call-ID, the play sessions the platform opened
	clip  *simcam.Clip

	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// New builds a device; over UDP it binds its socket on loopback (or the host the server is
// reached by) at once.
func New(cfg Config, log *slog.Logger) (*Device, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gb28181.QuietSIPLog()
	cfg.Transport = strings.ToLower(cfg.Transport)
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	if cfg.Transport != "udp" && cfg.Transport != "tcp" {
		return nil, fmt.Errorf("gbdevice: transport %q is not udp or tcp", cfg.Transport)
	}
	if cfg.Keepalive <= 0 {
		cfg.Keepalive = 60 * time.Second
	}
	if cfg.Expires <= 0 {
		cfg.Expires = 3600
	}
	if cfg.PerMessage <= 0 {
		cfg.PerMessage = 1
		if cfg.Transport == "tcp" {
			cfg.PerMessage = 20
		}
	}
	if cfg.Video == "" {
		cfg.Video = simcam.H264
	}
	clip, err := simcam.LoadClip(cfg.Video)
	if err != nil {
		return nil, fmt.Errorf("gbdevice: %w", err)
	}
	d := &Device{cfg: cfg, log: log, plays: map[string]*play{}, clip: clip.WithBitrate(cfg.Bitrate)}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	if d.ua, err = sipgo.NewUA(sipgo.WithUserAgent(cfg.ID)); err != nil {
		return nil, err
	}
	if d.srv, err = sipgo.NewServer(d.ua, sipgo.WithServerLogger(log)); err != nil {
		d.ua.Close()
		return nil, err
	}
	d.srv.OnMessage(d.handleMessage)
	d.srv.OnInvite(d.handleInvite)
	d.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	d.srv.OnBye(d.handleBye)
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(log)}
	if cfg.Transport == "tcp" && cfg.LocalIP != "" {
		opts = append(opts, sipgo.WithClientConnectionAddr(net.JoinHostPort(cfg.LocalIP, "0")), sipgo.WithClientHostname(cfg.LocalIP))
	}
	if cfg.Transport == "udp" {
		host, _, _ := net.SplitHostPort(cfg.Server)
		if cfg.LocalIP != "" {
			host = cfg.LocalIP
		}
		if d.pc, err = net.ListenPacket("udp", net.JoinHostPort(host, "0")); err != nil {
			d.ua.Close()
			return nil, err
		}
		la := d.pc.LocalAddr().(*net.UDPAddr)
		opts = append(opts, sipgo.WithClientConnectionAddr(la.String()), sipgo.WithClientHostname(la.IP.String()),
			sipgo.WithClientPort(la.Port))
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.srv.ServeUDP(d.pc)
		}()
		// The client sends from this socket only once the server has taken it into its pool.
		for i := 0; i < 1000; i++ {
			if c, _ := d.srv.TransportLayer().GetConnection("udp", la.String()); c != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	if d.client, err = sipgo.NewClient(d.ua, opts...); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close stops the device without unregistering.
func (d *Device) Close() error {
	d.cancel()
	if d.pc != nil {
		d.pc.Close()
	}
	err := d.ua.Close()
	d.wg.Wait()
	return err
}

// ErrRefused is a final answer other than 200 to a REGISTER.
var ErrRefused = errors.New("gbdevice: register refused")

// Register registers for expires seconds (0 unregisters), answering one digest challenge. It
// returns the platform's final answer.
func (d *Device) Register(ctx context.Context, expires int) (*sip.Response, error) {
	req := d.request(sip.REGISTER, nil, "")
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res, err := d.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == 401 && d.cfg.Password != "" {
		res, err = d.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: d.cfg.ID, Password: d.cfg.Password})
		if err != nil {
			return nil, err
		}
	}
	if res.StatusCode != 200 {
		return res, fmt.Errorf("%w: %d %s", ErrRefused, res.StatusCode, res.Reason)
	}
	return res, nil
}

// Keepalive sends one keepalive and returns the platform's status code.
func (d *Device) Keepalive(ctx context.Context) (int, error) {
	body := fmt.Sprintf("<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n",
		d.nextSN(), d.cfg.ID)
	return d.message(ctx, []byte(body))
}

// Send sends a MESSAGE with a raw body (tests send hostile ones) and returns the status code.
func (d *Device) Send(ctx context.Context, body []byte) (int, error) { return d.message(ctx, body) }

// Run registers, keeps alive and refreshes until ctx ends, then unregisters.
func (d *Device) Run(ctx context.Context) error {
	if _, err := d.Register(ctx, d.cfg.Expires); err != nil {
		return err
	}
	keep := time.NewTicker(d.cfg.Keepalive)
	defer keep.Stop()
	refresh := time.NewTicker(time.Duration(d.cfg.Expires) * time.Second / 2)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			bye, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			d.Register(bye, 0)
			cancel()
			return nil
		case <-keep.C:
			if code, err := d.Keepalive(ctx); err != nil || code != 200 {
				d.log.Warn("gbdevice keepalive", "device", d.cfg.ID, "code", code, "err", err)
				if code == 403 {
					d.Register(ctx, d.cfg.Expires)
				}
			}
		case <-refresh.C:
			if _, err := d.Register(ctx, d.cfg.Expires); err != nil {
				d.log.Warn("gbdevice register refresh", "device", d.cfg.ID, "err", err)
			}
		}
	}
}

func (d *Device) nextSN() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sn++
	return d.sn
}

// request builds a request to the platform from this device.
func (d *Device) request(method sip.RequestMethod, body []byte, contentType string) *sip.Request {
	host, port, _ := net.SplitHostPort(d.cfg.Server)
	p, _ := strconv.Atoi(port)
	req := sip.NewRequest(method, sip.Uri{User: d.cfg.ServerID, Host: host, Port: p})
	req.SetTransport(strings.ToUpper(d.cfg.Transport))
	from := &sip.FromHeader{Address: sip.Uri{User: d.cfg.ID, Host: d.cfg.Domain}}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{User: d.cfg.ID, Host: d.cfg.Domain}}
	if method != sip.REGISTER {
		to.Address.User = d.cfg.ServerID
	}
	req.AppendHeader(to)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: d.cfg.ID, Host: "192.0.2.1", Port: 5060}})
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
	}
	return req
}

// message sends a MANSCDP MESSAGE and returns the final status code.
func (d *Device) message(ctx context.Context, body []byte) (int, error) {
	req := d.request(sip.MESSAGE, body, "Application/MANSCDP+xml")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := d.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// query is the part of a platform's Query the device reads.
type query struct {
	XMLName   xml.Name
	CmdType   string `xml:"CmdType"`
	SN        int    `xml:"SN"`
	DeviceID  string `xml:"DeviceID"`
	StartTime string `xml:"StartTime"`
	EndTime   string `xml:"EndTime"`
}

// handleMessage answers the platform's queries: 200 at once, the answer as MESSAGEs after.
func (d *Device) handleMessage(req *sip.Request, tx sip.ServerTransaction) {
	var q query
	dec := xml.NewDecoder(bytes.NewReader(req.Body()))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // queries are ASCII
	if err := dec.Decode(&q); err != nil || q.XMLName.Local != "Query" {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.answer(d.ctx, q); err != nil {
			d.log.Warn("gbdevice answer", "device", d.cfg.ID, "cmd", q.CmdType, "err", err)
		}
	}()
}

// answer sends the answer to one query.
func (d *Device) answer(ctx context.Context, q query) error {
	switch q.CmdType {
	case "Catalog":
		chans := d.cfg.Channels
		for start := 0; start == 0 || start < len(chans); start += d.cfg.PerMessage {
			end := min(start+d.cfg.PerMessage, len(chans))
			var b strings.Builder
			fmt.Fprintf(&b, "<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<SumNum>%d</SumNum>\r\n<DeviceList Num=\"%d\">\r\n",
				q.SN, d.cfg.ID, len(chans), end-start)
			for _, c := range chans[start:end] {
				b.WriteString("<Item>\r\n<DeviceID>" + c.ID + "</DeviceID>\r\n<Name>")
				xml.EscapeText(&b, []byte(c.Name))
				b.WriteString("</Name>\r\n<Manufacturer>civicam</Manufacturer>\r\n<Model>simcam</Model>\r\n<ParentID>" + d.cfg.ID +
					"</ParentID>\r\n<Status>ON</Status>\r\n</Item>\r\n")
			}
			b.WriteString("</DeviceList>\r\n</Response>\r\n")
			if err := d.sendBody(ctx, b.String()); err != nil {
				return err
			}
			if len(chans) == 0 {
				break
			}
		}
		return nil
	case "DeviceInfo":
		return d.sendBody(ctx, fmt.Sprintf("<Response>\r\n<CmdType>DeviceInfo</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<DeviceName>%s</DeviceName>\r\n<Result>OK</Result>\r\n<Manufacturer>civicam</Manufacturer>\r\n<Model>simcam</Model>\r\n<Firmware>1.0</Firmware>\r\n<Channel>%d</Channel>\r\n</Response>\r\n",
			q.SN, d.cfg.ID, escape(d.cfg.Name), len(d.cfg.Channels)))
	case "RecordInfo":
		return d.answerRecords(ctx, q)
	case "DeviceStatus":
		return d.sendBody(ctx, fmt.Sprintf("<Response>\r\n<CmdType>DeviceStatus</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Result>OK</Result>\r\n<Online>ONLINE</Online>\r\n<Status>OK</Status>\r\n</Response>\r\n",
			q.SN, d.cfg.ID))
	}
	return nil
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// sendBody sends an XML body in the device's charset.
func (d *Device) sendBody(ctx context.Context, body string) error {
	var raw []byte
	if d.cfg.UTF8 {
		raw = []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" + body)
	} else {
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(body)
		if err != nil {
			return fmt.Errorf("encode GBK: %w", err)
		}
		raw = []byte("<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n" + gbk)
	}
	code, err := d.message(ctx, raw)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("platform answered %d", code)
	}
	return nil
}

// Playing is how many play sessions are open.
func (d *Device) Playing() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.plays)
}

// play is one play session: the channel, and the end of its sender.
type play struct {
	channel string
	stop    context.CancelFunc
}

// handleInvite accepts a play of one of its channels, answering with the SSRC offered, and
// sends the clip as PS over RTP: over UDP to the offer's address, or over TCP (RFC 4571) on a
// connection it makes to the offer's address or, when the platform is active, accepts.
func (d *Device) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	offer, err := sdp.Parse(req.Body())
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	known := false
	for _, c := range d.cfg.Channels {
		known = known || c.ID == req.Recipient.User
	}
	if !known {
		tx.Respond(sip.NewResponseFromRequest(req, 404, "Not Found", nil))
		return
	}
	host := "127.0.0.1"
	if d.pc != nil {
		host = d.pc.LocalAddr().(*net.UDPAddr).IP.String()
	}
	// Where the media goes: a UDP socket of its own; over TCP, a connection to the platform
	// (the platform passive) or a listener the platform connects to (the platform active).
	var (
		conn net.Conn
		ln   net.Listener
	)
	port := 9
	active := false // the device's own TCP role in the answer
	target := net.JoinHostPort(offer.IP, strconv.Itoa(offer.Port))
	switch {
	case offer.TCP && offer.Setup == "active":
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		port = ln.Addr().(*net.TCPAddr).Port
	case offer.TCP && offer.Port > 0:
		if conn, err = net.DialTimeout("tcp", target, 5*time.Second); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		port, active = conn.LocalAddr().(*net.TCPAddr).Port, true
	case offer.Port > 0:
		if conn, err = net.Dial("udp", target); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		port = conn.LocalAddr().(*net.UDPAddr).Port
	}
	answer := sdp.Offer{PlatformID: req.Recipient.User, IP: host, Port: port, SSRC: offer.SSRC, TCP: offer.TCP,
		Active: active, Sendonly: true}.Bytes()
	ctx, stop := context.WithCancel(d.ctx)
	d.mu.Lock()
	if old := d.plays[req.CallID().Value()]; old != nil {
		old.stop()
	}
	d.plays[req.CallID().Value()] = &play{channel: req.Recipient.User, stop: stop}
	d.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: req.Recipient.User, Host: "192.0.2.1", Port: 5060}})
	tx.Respond(res)
	if conn == nil && ln == nil {
		return
	}
	ssrc, _ := strconv.ParseUint(offer.SSRC, 10, 32)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if ln != nil {
			unblock := context.AfterFunc(ctx, func() { ln.Close() })
			conn, err = ln.Accept()
			unblock()
			ln.Close()
			if err != nil {
				return
			}
		}
		defer conn.Close()
		stopWrite := context.AfterFunc(ctx, func() { conn.Close() })
		defer stopWrite()
		write := func(b []byte) error {
			conn.Write(b) // an error is a refused datagram; the next frame tries again
			return nil
		}
		if offer.TCP {
			fw := mpegps.NewFrameWriter(conn)
			write = fw.WriteFrame // over TCP an error is the end of the connection
		}
		if err := d.send(ctx, write, uint32(ssrc)); err != nil && ctx.Err() == nil {
			d.log.Warn("gbdevice media", "device", d.cfg.ID, "channel", req.Recipient.User, "err", err)
		}
	}()
}

// send loops the clip to conn as PS over RTP, one access unit a frame period, until ctx ends.
// Over UDP a send refused (nothing listening yet, or any more) is not an end: the platform may
// bind late; write says so by returning nil.
func (d *Device) send(ctx context.Context, write func([]byte) error, ssrc uint32) error {
	codec := mpegps.CodecH264
	if d.clip.Codec == simcam.H265 {
		codec = mpegps.CodecH265
	}
	mux := mpegps.NewMuxer(mpegps.MuxerConfig{Video: codec})
	pk := mpegps.NewPacketizer(ssrc, 0, 0)
	tick := time.NewTicker(time.Duration(d.clip.FrameTicks) * time.Second / 90000)
	defer tick.Stop()
	var ps []byte
	for n := int64(0); ; n++ {
		i := int(n % int64(len(d.clip.AccessUnits)))
		ts := n*d.clip.FrameTicks + 90000 // the first DTS is not zero, as a device's is not
		var err error
		ps, err = mux.AppendVideo(ps[:0], &mpegps.AccessUnit{NALUs: d.clip.AccessUnits[i], PTS: ts, DTS: ts, Keyframe: d.clip.Keyframe[i]})
		if err != nil {
			return err
		}
		for _, pkt := range pk.Packetize(ps, uint32(ts)) {
			b, err := pkt.Marshal()
			if err != nil {
				return err
			}
			if err := write(b); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (d *Device) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	d.mu.Lock()
	p, ok := d.plays[req.CallID().Value()]
	delete(d.plays, req.CallID().Value())
	d.mu.Unlock()
	if !ok {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	p.stop()
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// answerRecords answers RecordInfo as a device that records around the clock in files of an
// hour: the hours of [StartTime, EndTime), at most 48, PerMessage a MESSAGE.
func (d *Device) answerRecords(ctx context.Context, q query) error {
	const layout = "2006-01-02T15:04:05"
	start, err1 := time.Parse(layout, q.StartTime)
	end, err2 := time.Parse(layout, q.EndTime)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("record info times %q, %q", q.StartTime, q.EndTime)
	}
	type span struct{ from, to time.Time }
	var spans []span
	for t := start.Truncate(time.Hour); t.Before(end) && len(spans) < 48; t = t.Add(time.Hour) {
		sp := span{t, t.Add(time.Hour)}
		if sp.from.Before(start) {
			sp.from = start
		}
		if sp.to.After(end) {
			sp.to = end
		}
		spans = append(spans, sp)
	}
	for i := 0; i == 0 || i < len(spans); i += d.cfg.PerMessage {
		part := spans[i:min(i+d.cfg.PerMessage, len(spans))]
		var b strings.Builder
		fmt.Fprintf(&b, "<Response>\r\n<CmdType>RecordInfo</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Name>%s</Name>\r\n<SumNum>%d</SumNum>\r\n<RecordList Num=\"%d\">\r\n",
			q.SN, q.DeviceID, escape(d.cfg.Name), len(spans), len(part))
		for _, sp := range part {
			fmt.Fprintf(&b, "<Item>\r\n<DeviceID>%s</DeviceID>\r\n<Name>%s</Name>\r\n<FilePath>/record/%s.ps</FilePath>\r\n<StartTime>%s</StartTime>\r\n<EndTime>%s</EndTime>\r\n<Secrecy>0</Secrecy>\r\n<Type>time</Type>\r\n<FileSize>%d</FileSize>\r\n</Item>\r\n",
				q.DeviceID, escape(d.cfg.Name), sp.from.Format("20060102150405"), sp.from.Format(layout), sp.to.Format(layout),
				int64(sp.to.Sub(sp.from).Seconds())*250_000)
		}
		b.WriteString("</RecordList>\r\n</Response>\r\n")
		if err := d.sendBody(ctx, b.String()); err != nil {
			return err
		}
		if len(spans) == 0 {
			break
		}
	}
	return nil
}
