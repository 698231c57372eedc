package lostperson

import (
	"errors"
	"testing"

	"civicam/internal/fault"
)

func TestDisclosed(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // the kind refused; "" for accepted
	}{
		// What a notice may say.
		{"plain english", "Your father was found safe near the river park and is with the police.", ""},
		{"plain chinese", "您的父亲已在江边公园附近被找到，现由派出所民警照看。", ""},
		{"date and time", "He was last seen on 2026-12-07 at 14:30, walking north.", ""},
		{"chinese date", "2026年12月7日下午3点15分在火车站广场出现。", ""},
		{"iso time", "Seen at 2026-12-07T14:30:00+08:00 near the station.", ""},
		{"year range", "Footage of 2025-2026 was reviewed.", ""},
		{"numbers in words", "We reviewed 12 cameras over 3 hours; 2 showed him.", ""},
		{"decimal alone", "Coverage was 85.5 percent of the window.", ""},
		{"temperature", "It was 25°C and raining.", ""},
		{"province word", "在湘江边看到一位老人。", ""},
		{"police hotline", "Call 110 if you learn more.", ""},
		{"office sentence", "请到湘潭路派出所领人。", ""},
		{"abbreviation with dot", "She was seen at approx. 3 p.m. e.g. near the bank.", ""},
		{"time range", "Between 14:00-16:30 she stayed at the bus stop.", ""},

		// What it may not.
		{"camera uuid", "Seen on camera 3f2a9c1e-8b7d-4e6f-9a1b-2c3d4e5f6a7b at the gate.", DiscloseID},
		{"uuid upper without dashes", "ref 3F2A9C1E8B7D4E6F9A1B2C3D4E5F6A7B", DiscloseID},
		{"gb28181 id", "通道 34020000001320000001 拍到了她。", DiscloseID},
		{"playback url", "See https://civicam.example/api/v1/cameras/x/playback.mp4", DiscloseURL},
		{"www link", "details on www.example.cn/case", DiscloseURL},
		{"bare host", "civicam.zhuzhou.gov.cn has the video", DiscloseURL},
		{"api path", "open /api/v1/cameras/abc/playback for it", DiscloseURL},
		{"file name", "The clip x.mp4 shows her.", DiscloseFile},
		{"chinese file name", "见录像片段门口.jpg", DiscloseFile},
		{"plate", "She got into a taxi 湘B12345.", DisclosePlate},
		{"plate with dot", "车牌湘B·12345", DisclosePlate},
		{"plate with space", "plate 湘B 12345", DisclosePlate},
		{"plate lowercase", "湘b12345", DisclosePlate},
		{"new energy plate D first", "湘AD12345", DisclosePlate},
		{"new energy plate D last", "湘A12345D", DisclosePlate},
		{"plate with letters", "粤BX7K39", DisclosePlate},
		{"id card", "身份证430102198001011233", DiscloseIDCard},
		{"id card with X", "ID 43020319850612100X", DiscloseIDCard},
		{"id card lowercase x", "ID 43020319850612100x", DiscloseIDCard},
		{"id card spaced", "430102 19800101 1233", DiscloseIDCard},
		{"mobile", "the driver, 13812345678, helped", DisclosePhone},
		{"mobile grouped", "call 138 1234 5678", DisclosePhone},
		{"mobile +86", "+86 139-1234-5678", DisclosePhone},
		{"mobile full width", "电话１３８１２３４５６７８", DisclosePhone},
		{"landline", "shop phone 0731-12345678", DisclosePhone},
		{"landline short area", "010 12345678", DisclosePhone},
		{"coordinate pair", "at 27.83, 113.15", DiscloseCoordinates},
		{"coordinate pair chinese comma", "位置27.8312，113.1503", DiscloseCoordinates},
		{"degrees", "27°49'N 113°09'E", DiscloseCoordinates},
		{"degree decimal", "27.83° north", DiscloseCoordinates},
		{"hemisphere words", "北纬27.8度", DiscloseCoordinates},
		{"lat label", "lat: 27", DiscloseCoordinates},
		{"long decimal", "y 113.15034", DiscloseCoordinates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Disclosed("message", tt.text)
			var de *DisclosureError
			got := ""
			if errors.As(err, &de) {
				got = de.Kind
			} else if err != nil {
				t.Fatalf("Disclosed(%q) = %v; want a DisclosureError or nil", tt.text, err)
			}
			if got != tt.want {
				t.Errorf("Disclosed(%q) kind = %q (%v); want %q", tt.text, got, err, tt.want)
			}
			if err == nil {
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Refused || fe.Field != "message" || de.MessageZH == "" || de.Message == "" {
				t.Errorf("Disclosed(%q) = %#v; want a Refused fault on field message with both languages", tt.text, err)
			}
		})
	}
}

func TestIDCardCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"430102198001011233", true},
		{"430102198001011234", false},
		{"43020319850612100X", true},
		{"430203198506121001", false},
	}
	for _, tt := range tests {
		if got := idCard(tt.in); got != tt.want {
			t.Errorf("idCard(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
	// A wrong check digit is not an identity card, and 18 digits are neither phone nor id.
	if err := Disclosed("message", "430102198001011234"); err != nil {
		t.Errorf("Disclosed(18 digits, wrong check digit) = %v; want nil", err)
	}
}
