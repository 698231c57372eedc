package sdp

import (
	"errors"
	"testing"
)

func TestOfferParsesAsAnswer(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		o := Offer{PlatformID: "43020000002000000001", IP: "127.0.0.1", Port: 30002, SSRC: "0200000001", TCP: tcp}
		a, err := Parse(o.Bytes())
		if err != nil {
			t.Fatalf("Parse(offer) = %v", err)
		}
		if a.IP != o.IP || a.Port != o.Port || a.SSRC != o.SSRC || a.TCP != tcp || !a.PS {
			t.Errorf("Parse(offer tcp=%v) = %+v; want %+v", tcp, a, o)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, sdp string
		want      *Answer
	}{
		{"hikvision", "v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\nm=video 15060 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=0200000001\r\nf=\r\n",
			&Answer{IP: "192.168.1.64", Port: 15060, SSRC: "0200000001", PS: true}},
		{"tcp active, LF only", "v=0\nc=IN IP4 10.0.0.2\nm=video 9 TCP/RTP/AVP 96\na=setup:active\na=rtpmap:96 PS/90000\ny=0000000000\n",
			&Answer{IP: "10.0.0.2", Port: 9, TCP: true, Setup: "active", SSRC: "0000000000", PS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.sdp))
			if err != nil || *a != *tc.want {
				t.Errorf("Parse = %+v, %v; want %+v", a, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "v=0\r\nm=audio 8000 RTP/AVP 0\r\n", "m=video 99999 RTP/AVP 96", "c=IN IP4 not-an-ip\r\nm=video 1 RTP/AVP 96", "m=video 1 RTP/AVP 96\r\ny=012345678901"} {
		if a, err := Parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrMalformed", bad, a, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Offer{PlatformID: "43020000002000000001", IP: "127.0.0.1", Port: 30002, SSRC: "0200000001"}.Bytes())
	f.Add(Offer{PlatformID: "43020000002000000001", IP: "::1", Port: 1, SSRC: "1", TCP: true}.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		if a.Port < 0 || a.Port > 65535 || len(a.SSRC) > 10 {
			t.Fatalf("Parse accepted %+v", a)
		}
	})
}
