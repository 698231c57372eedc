// Package manscdp reads and writes MANSCDP, the XML of GB/T 28181's MESSAGEs (annex A): the
// charset found per message, stray NULs tolerated, document types (entities) refused, size bounded.
package manscdp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// MaxBody bounds a MANSCDP body (SIP messages are at most 64 KiB). A catalog is split over many MESSAGEs by its sender, so no
// honest body comes near it; a larger one is refused before it is parsed.
const MaxBody = 32 << 10

// maxItems bounds the channels one MESSAGE may list, and MaxSumNum those a catalog may claim.
const (
	maxItems  = 2000
	MaxSumNum = 20000
)

// ErrHostileXML refuses a body that declares a document type: entities are how an XML body
// blows up (billion laughs) or reaches out (external entities), and MANSCDP needs none.
var ErrHostileXML = errors.New("manscdp: document type declarations are refused")

// ErrTooLarge refuses a body over MaxBody.
var ErrTooLarge = errors.New("manscdp: body too large")

// Message is one MANSCDP (GB/T 28181 annex A) message: a Query, Notify, Response or Control,
// with the fields of the commands civicam handles. Text is UTF-8 whatever the body's charset.
type Message struct {
	// Kind is the root element: Query, Notify, Response or Control.
	Kind     string
	CmdType  string
	SN       int
	DeviceID string
	// Status is a Keepalive's OK or ERROR.
	Status string
	// Catalog: how many items the whole catalog has, and this message's share.
	SumNum int
	Items  []Item
	// DeviceInfo.
	DeviceName   string
	Manufacturer string
	Model        string
	Firmware     string
	Channel      int
	// DeviceStatus.
	Online string
	Result string
	// RecordInfo: the recordings a device keeps for a channel (SumNum counts them all).
	Name    string
	Records []Record
}

// Record is one recording a device keeps on its own storage (RecordInfo). Times are as the
// device wrote them (local time, "2006-01-02T15:04:05").
type Record struct {
	DeviceID  string
	Name      string
	FilePath  string
	Address   string
	StartTime string
	EndTime   string
	Type      string
	FileSize  int64
}

// TimeLayout is MANSCDP's time: local time without a zone.
const TimeLayout = "2006-01-02T15:04:05"

// RecordInfoQueryBody is a platform's RecordInfo query: what channelID keeps for [start, end),
// the times written in their own location.
func RecordInfoQueryBody(sn int, channelID string, start, end time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Query>\r\n<CmdType>RecordInfo</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>", sn)
	xml.EscapeText(&b, []byte(channelID))
	fmt.Fprintf(&b, "</DeviceID>\r\n<StartTime>%s</StartTime>\r\n<EndTime>%s</EndTime>\r\n<Secrecy>0</Secrecy>\r\n<Type>all</Type>\r\n</Query>\r\n",
		start.Format(TimeLayout), end.Format(TimeLayout))
	return b.Bytes()
}

// Item is one entry of a catalog: a channel (a camera) or a directory of them.
type Item struct {
	DeviceID     string
	Name         string
	Manufacturer string
	Model        string
	ParentID     string
	CivilCode    string
	Address      string
	// Status is ON or OFF as the device says; Online says it as a bool.
	Status    string
	Longitude float64
	Latitude  float64
}

// Online reports whether the device lists the item as on.
func (it Item) Online() bool {
	s := strings.ToUpper(strings.TrimSpace(it.Status))
	return s == "ON" || s == "ONLINE" || s == "OK"
}

// wire is the XML shape of a message; every field is optional, and numbers that do not parse
// are taken as zero rather than refusing the message (devices fill them loosely).
type wire struct {
	XMLName      xml.Name
	CmdType      string `xml:"CmdType"`
	SN           string `xml:"SN"`
	DeviceID     string `xml:"DeviceID"`
	Status       string `xml:"Status"`
	SumNum       string `xml:"SumNum"`
	DeviceName   string `xml:"DeviceName"`
	Manufacturer string `xml:"Manufacturer"`
	Model        string `xml:"Model"`
	Firmware     string `xml:"Firmware"`
	Channel      string `xml:"Channel"`
	Online       string `xml:"Online"`
	Result       string `xml:"Result"`
	DeviceList   struct {
		Items []struct {
			DeviceID     string `xml:"DeviceID"`
			Name         string `xml:"Name"`
			Manufacturer string `xml:"Manufacturer"`
			Model        string `xml:"Model"`
			ParentID     string `xml:"ParentID"`
			CivilCode    string `xml:"CivilCode"`
			Address      string `xml:"Address"`
			Status       string `xml:"Status"`
			Longitude    string `xml:"Longitude"`
			Latitude     string `xml:"Latitude"`
		} `xml:"Item"`
	} `xml:"DeviceList"`
	Name       string `xml:"Name"`
	RecordList struct {
		Items []struct {
			DeviceID  string `xml:"DeviceID"`
			Name      string `xml:"Name"`
			FilePath  string `xml:"FilePath"`
			Address   string `xml:"Address"`
			StartTime string `xml:"StartTime"`
			EndTime   string `xml:"EndTime"`
			Type      string `xml:"Type"`
			FileSize  string `xml:"FileSize"`
		} `xml:"Item"`
	} `xml:"RecordList"`
}

// Parse decodes a MANSCDP body. The charset is found per message: the XML declaration's
// encoding when it names GB2312, GBK or GB18030 (all read as GB18030, their superset), UTF-8
// when the bytes are valid UTF-8, and GB18030 otherwise, since devices often declare one and send
// the other. NUL bytes, which some devices pad or terminate bodies with, are dropped.
func Parse(body []byte) (*Message, error) {
	if len(body) > MaxBody {
		return nil, ErrTooLarge
	}
	body = bytes.ReplaceAll(body, []byte{0}, nil)
	if containsFold(body, []byte("<!DOCTYPE")) || containsFold(body, []byte("<!ENTITY")) {
		return nil, ErrHostileXML
	}
	text, err := toUTF8(body)
	if err != nil {
		return nil, err
	}
	var w wire
	d := xml.NewDecoder(bytes.NewReader(text))
	// The text is UTF-8 by now, whatever the declaration still says.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := d.Decode(&w); err != nil {
		return nil, fmt.Errorf("manscdp: %w", err)
	}
	if len(w.DeviceList.Items) > maxItems || len(w.RecordList.Items) > maxItems {
		return nil, fmt.Errorf("manscdp: %d items in one message, more than %d", len(w.DeviceList.Items)+len(w.RecordList.Items), maxItems)
	}
	m := &Message{
		Kind: w.XMLName.Local, CmdType: strings.TrimSpace(w.CmdType), SN: atoi(w.SN),
		DeviceID: strings.TrimSpace(w.DeviceID), Status: strings.TrimSpace(w.Status),
		SumNum: atoi(w.SumNum), DeviceName: clean(w.DeviceName), Manufacturer: clean(w.Manufacturer),
		Model: clean(w.Model), Firmware: clean(w.Firmware), Channel: atoi(w.Channel),
		Online: strings.TrimSpace(w.Online), Result: strings.TrimSpace(w.Result),
	}
	switch m.Kind {
	case "Query", "Notify", "Response", "Control":
	default:
		return nil, fmt.Errorf("manscdp: root element %q is not Query, Notify, Response or Control", m.Kind)
	}
	if m.CmdType == "" {
		return nil, errors.New("manscdp: no CmdType")
	}
	if m.SumNum < 0 || m.SumNum > MaxSumNum {
		return nil, fmt.Errorf("manscdp: SumNum %d out of range", m.SumNum)
	}
	for _, it := range w.DeviceList.Items {
		m.Items = append(m.Items, Item{
			DeviceID: strings.TrimSpace(it.DeviceID), Name: clean(it.Name), Manufacturer: clean(it.Manufacturer),
			Model: clean(it.Model), ParentID: strings.TrimSpace(it.ParentID), CivilCode: strings.TrimSpace(it.CivilCode),
			Address: clean(it.Address), Status: strings.TrimSpace(it.Status),
			Longitude: atof(it.Longitude), Latitude: atof(it.Latitude),
		})
	}
	m.Name = clean(w.Name)
	for _, it := range w.RecordList.Items {
		size, _ := strconv.ParseInt(strings.TrimSpace(it.FileSize), 10, 64)
		m.Records = append(m.Records, Record{
			DeviceID: strings.TrimSpace(it.DeviceID), Name: clean(it.Name), FilePath: clean(it.FilePath),
			Address: clean(it.Address), StartTime: strings.TrimSpace(it.StartTime), EndTime: strings.TrimSpace(it.EndTime),
			Type: strings.TrimSpace(it.Type), FileSize: max(size, 0),
		})
	}
	return m, nil
}

// toUTF8 converts a body to UTF-8 as Parse describes.
func toUTF8(body []byte) ([]byte, error) {
	enc := strings.ToUpper(declaredEncoding(body))
	gb := enc == "GB2312" || enc == "GBK" || enc == "GB18030" || enc == "CP936"
	if !gb && utf8.Valid(body) {
		return body, nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("manscdp: body is neither UTF-8 nor GB18030: %w", err)
	}
	return out, nil
}

// declaredEncoding is the encoding named in an XML declaration at the start of body, or "".
func declaredEncoding(body []byte) string {
	body = bytes.TrimLeft(body, " \t\r\n\xef\xbb\xbf")
	if !bytes.HasPrefix(body, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(body, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(body[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t=")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	rest = rest[1:]
	j := strings.IndexByte(rest, q)
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(rest[:j])
}

func containsFold(b, sub []byte) bool {
	return bytes.Contains(bytes.ToUpper(b), sub)
}

// maxText bounds a name or address taken from a device (a camera name holds 200 characters).
const maxText = 200

// clean trims text from a device and cuts it to maxText characters, dropping control characters.
func clean(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			continue
		}
		if n == maxText {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}

func atof(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != f || f > 1e6 || f < -1e6 {
		return 0
	}
	return f
}

// QueryBody is a platform's Query of cmdType (Catalog, DeviceInfo, DeviceStatus) for deviceID.
func QueryBody(cmdType string, sn int, deviceID string) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Query>\r\n<CmdType>")
	xml.EscapeText(&b, []byte(cmdType))
	fmt.Fprintf(&b, "</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>", sn)
	xml.EscapeText(&b, []byte(deviceID))
	b.WriteString("</DeviceID>\r\n</Query>\r\n")
	return b.Bytes()
}
