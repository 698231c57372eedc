package manscdp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func gbk(t testing.TB, s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func catalogBody(name string) string {
	return `<Response><CmdType>Catalog</CmdType><SN>7</SN><DeviceID>43020000001180000001</DeviceID><SumNum>2</SumNum>` +
		`<DeviceList Num="1"><Item><DeviceID>43020000001310000001</DeviceID><Name>` + name + `</Name><Status>ON</Status>` +
		`<Longitude>113.13</Longitude><Latitude>27.83</Latitude></Item></DeviceList></Response>`
}

func TestParseMessageCharsets(t *testing.T) {
	const name = "株洲市荷塘区路口𠀀" // the last character exists in GB18030 only
	const gbkName = "株洲市荷塘区路口"
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"utf-8 declared", []byte(`<?xml version="1.0" encoding="UTF-8"?>` + catalogBody(name)), name},
		{"utf-8 undeclared", []byte(catalogBody(name)), name},
		{"gb2312 declared", append([]byte(`<?xml version="1.0" encoding="GB2312"?>`), gbk(t, catalogBody(gbkName))...), gbkName},
		{"gbk declared", append([]byte(`<?xml version='1.0' encoding='gbk'?>`), gbk(t, catalogBody(gbkName))...), gbkName},
		{"gb18030", func() []byte {
			b, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(catalogBody(name)))
			return append([]byte(`<?xml version="1.0" encoding="GB18030"?>`), b...)
		}(), name},
		{"utf-8 declared, gbk sent", append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), gbk(t, catalogBody(gbkName))...), gbkName},
		{"stray NULs", append(append([]byte(catalogBody(name)), 0, 0), 0), name},
		{"NUL inside", bytes.Replace([]byte(catalogBody(name)), []byte("<SN>"), []byte("<SN>\x00"), 1), name},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.body)
			if err != nil {
				t.Fatalf("ParseMessage = %v", err)
			}
			if len(m.Items) != 1 || m.Items[0].Name != tc.want {
				t.Fatalf("ParseMessage items = %+v; want one named %q", m.Items, tc.want)
			}
			if m.Kind != "Response" || m.CmdType != "Catalog" || m.SN != 7 || m.SumNum != 2 || !m.Items[0].Online() || m.Items[0].Latitude != 27.83 {
				t.Errorf("ParseMessage = %+v", m)
			}
		})
	}
}

func TestParseMessageRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Notify><CmdType>Keepalive</CmdType><Status>&b;</Status></Notify>`, ErrHostileXML},
		{"external entity", `<!doctype x [<!entity e SYSTEM "file:///etc/passwd">]><Notify><CmdType>Keepalive</CmdType><Status>&e;</Status></Notify>`, ErrHostileXML},
		{"too large", `<Notify><CmdType>Keepalive</CmdType><Status>` + strings.Repeat("x", MaxBody) + `</Status></Notify>`, ErrTooLarge},
		{"unknown entity", `<Notify><CmdType>Keepalive</CmdType><Status>&e;</Status></Notify>`, nil},
		{"wrong root", `<Html><CmdType>Keepalive</CmdType></Html>`, nil},
		{"no command", `<Notify><SN>1</SN></Notify>`, nil},
		{"unclosed", `<Notify><CmdType>Keepalive</CmdType>`, nil},
		{"huge SumNum", `<Response><CmdType>Catalog</CmdType><SumNum>99999999</SumNum></Response>`, nil},
		{"empty", ``, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.body))
			if err == nil {
				t.Fatalf("ParseMessage = %+v; want an error", m)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("ParseMessage = %v; want %v", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(catalogBody("路口")))
	f.Add(append([]byte(`<?xml version="1.0" encoding="GB2312"?>`), gbk(f, catalogBody("路口"))...))
	f.Add([]byte(`<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>43020000001180000001</DeviceID><Status>OK</Status></Notify>`))
	f.Add([]byte(`<Response><CmdType>DeviceInfo</CmdType><DeviceName>x</DeviceName><Channel>3</Channel></Response>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			return
		}
		if len(m.Items) > maxItems || m.SumNum < 0 || m.SumNum > MaxSumNum {
			t.Fatalf("ParseMessage accepted %d items, SumNum %d", len(m.Items), m.SumNum)
		}
		for _, it := range m.Items {
			if len([]rune(it.Name)) > maxText || strings.ContainsRune(it.Name, 0) {
				t.Fatalf("item name %q not cleaned", it.Name)
			}
		}
	})
}

func TestParseRecordInfo(t *testing.T) {
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response><CmdType>RecordInfo</CmdType><SN>17</SN><DeviceID>43020000001310000001</DeviceID><Name>路口一</Name><SumNum>2</SumNum>
<RecordList Num="2">
<Item><DeviceID>43020000001310000001</DeviceID><Name>路口一</Name><FilePath>/rec/1.ps</FilePath><StartTime>2026-12-07T08:00:00</StartTime><EndTime>2026-12-07T09:00:00</EndTime><Type>time</Type><FileSize>1048576</FileSize></Item>
<Item><DeviceID>43020000001310000001</DeviceID><StartTime>2026-12-07T09:00:00</StartTime><EndTime>2026-12-07T09:30:00</EndTime><FileSize>-5</FileSize></Item>
</RecordList></Response>`)
	m, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if m.CmdType != "RecordInfo" || m.SN != 17 || m.SumNum != 2 || m.Name != "路口一" || len(m.Records) != 2 {
		t.Fatalf("Parse = %+v; want RecordInfo SN 17 of 2 records", m)
	}
	want := Record{DeviceID: "43020000001310000001", Name: "路口一", FilePath: "/rec/1.ps", StartTime: "2026-12-07T08:00:00",
		EndTime: "2026-12-07T09:00:00", Type: "time", FileSize: 1048576}
	if m.Records[0] != want {
		t.Errorf("Records[0] = %+v; want %+v", m.Records[0], want)
	}
	if m.Records[1].FileSize != 0 {
		t.Errorf("Records[1].FileSize = %d; want a negative size read as 0", m.Records[1].FileSize)
	}
}
