package lostperson

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"civicam/internal/fault"
)

// A result notice goes to the guardian (REG-6: the result and nothing else), so its words are
// checked for what would identify cameras, footage or other people before it is saved. The
// check errs on the side of refusing: the reviewer can always say the same thing in words.

// Disclosure kinds: what a refused message was found to hold.
const (
	DiscloseID          = "id"          // a UUID or a GB/T 28181 device id: a camera, an application, a user
	DiscloseURL         = "url"         // a link, a path or a host name
	DiscloseFile        = "file"        // a file name such as x.mp4
	DisclosePlate       = "plate"       // a mainland vehicle plate
	DiscloseIDCard      = "id_card"     // an identity-card number with its check digit
	DisclosePhone       = "phone"       // a mobile or landline number
	DiscloseCoordinates = "coordinates" // a position in degrees
)

var disclosureText = map[string][2]string{
	DiscloseID:          {"the message holds an identifier (a camera id or another UUID); describe what was found in words", "告知内容含有编号（摄像机编号或其他 UUID），请用文字描述结果"},
	DiscloseURL:         {"the message holds a link or address of the platform; the guardian is told the result, not where footage is", "告知内容含有链接或网址；只能告知结果，不能告知录像位置"},
	DiscloseFile:        {"the message holds a file name; no footage or file is given to the guardian", "告知内容含有文件名；不向申请人提供录像或文件"},
	DisclosePlate:       {"the message holds a vehicle plate number; information about other people cannot be given out", "告知内容含有车牌号；不得提供他人信息"},
	DiscloseIDCard:      {"the message holds an identity-card number; information about people cannot be given out", "告知内容含有身份证号码；不得提供个人信息"},
	DisclosePhone:       {"the message holds a phone number; information about other people cannot be given out", "告知内容含有电话号码；不得提供他人信息"},
	DiscloseCoordinates: {"the message holds coordinates; name the place in words (a street, a landmark)", "告知内容含有坐标；请用文字说明地点（街道、地标）"},
}

// DisclosureError is why a notice's message was refused: what kind of thing it holds and where.
// Messages are in English and Chinese, for each face to pick the reader's language.
type DisclosureError struct {
	Field     string
	Kind      string
	Match     string // the text found, for the reviewer who wrote it
	Message   string
	MessageZH string
}

func (e *DisclosureError) Error() string {
	return fmt.Sprintf("%s discloses %s %q", e.Field, e.Kind, e.Match)
}

// Disclosed refuses text that holds a camera id or any UUID, a URL or file name, a vehicle
// plate, an identity-card number, a phone number or coordinates. It is nil for ordinary words,
// dates and times.
func Disclosed(field, text string) error {
	kind, match := disclosure(fold(text))
	if kind == "" {
		return nil
	}
	t := disclosureText[kind]
	return &fault.Error{Kind: fault.Refused, Code: "notice_discloses_" + kind, Field: field, Message: t[0],
		Err: &DisclosureError{Field: field, Kind: kind, Match: match, Message: t[0], MessageZH: t[1]}}
}

// fold maps full-width letters, digits and punctuation to ASCII, so that "１３８…" is read as a
// phone number, and lowers nothing: plates are matched case-insensitively where it matters.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		}
		return r
	}, s)
}

const provinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"

var (
	reUUID = regexp.MustCompile(`(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}`)
	reURL  = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://\S+|\bwww\.\S+|\b(?:[a-z0-9\-]+\.)+(?:com|cn|net|org|gov|edu|local|io|info|top|xyz)\b(?:[/:]\S*)?|(?:^|[\s(（])/[\w.\-]+/[\w./\-?=&%]+`)
	reFile = regexp.MustCompile(`(?i)[\w\-\p{Han}]+\.(?:mp4|m4s|m4v|mkv|avi|mov|flv|ts|m3u8|264|265|h264|h265|hevc|ps|mpg|mpeg|wmv|webm|jpg|jpeg|png|gif|bmp|webp|heic|tif|tiff|raw|mp3|wav|aac|pdf|zip|rar|7z|tar|gz|txt|csv|json|xml|html?|docx?|xlsx?|pptx?|exe|log)\b`)
	// Plates: a province, the issuing office's letter, an optional separator, then five letters
	// or digits (ordinary) or six (new-energy: D/F first or last), with an optional suffix.
	rePlate = regexp.MustCompile(`(?i)[` + provinces + `]\s*[A-Z]\s*[·•.\-\s]?\s*[A-Z0-9]{5,6}(?:[学警挂港澳领])?`)
	// Runs of digits that may be written with single spaces or hyphens between groups.
	reDigits = regexp.MustCompile(`\+?\d(?:[ \-]?\d)*(?:[ \-]?[Xx])?`)
	// Coordinates: two decimals in a pair, a degree sign, hemisphere words or many decimals.
	reCoordPair   = regexp.MustCompile(`-?\d{1,3}\.\d{2,}\s*[,，;；/、]?\s*-?\d{1,3}\.\d{2,}`)
	reCoordDegree = regexp.MustCompile(`(?i)\d{1,3}(?:\.\d+)?\s*[°º˚](?:\s*\d{1,2}(?:\.\d+)?\s*['′’](?:\s*\d{1,2}(?:\.\d+)?\s*(?:"|″|”|''))?)?\s*(?:[NSEW北南东西]|$|[^CF℃℉\d])`)
	reCoordWord   = regexp.MustCompile(`(?i)(?:北纬|南纬|东经|西经|纬度|经度|\blat(?:itude)?\b|\blon(?:gitude)?\b|\blng\b)\s*[:：=]?\s*-?\d`)
	reCoordLong   = regexp.MustCompile(`(?:^|[^\d.])-?\d{1,3}\.\d{4,}(?:[^\d.]|$)`)
)

// disclosure returns the first kind of disclosure in s and the text matched.
func disclosure(s string) (kind, match string) {
	if m := reURL.FindString(s); m != "" {
		return DiscloseURL, strings.TrimSpace(m)
	}
	if m := reUUID.FindString(s); m != "" {
		return DiscloseID, m
	}
	if m := reFile.FindString(s); m != "" {
		return DiscloseFile, m
	}
	for _, m := range rePlate.FindAllString(s, -1) {
		if plate(m) {
			return DisclosePlate, m
		}
	}
	if m := reCoordPair.FindString(s); m != "" {
		return DiscloseCoordinates, m
	}
	if m := reCoordDegree.FindString(s); m != "" {
		return DiscloseCoordinates, m
	}
	if m := reCoordWord.FindString(s); m != "" {
		return DiscloseCoordinates, m
	}
	if m := reCoordLong.FindString(s); m != "" {
		return DiscloseCoordinates, strings.TrimFunc(m, func(r rune) bool { return !unicode.IsDigit(r) && r != '-' })
	}
	for _, m := range reDigits.FindAllString(s, -1) {
		if k := number(m); k != "" {
			return k, m
		}
	}
	return "", ""
}

// plate tells a plate from Chinese words that happen to follow the pattern: the body after the
// office letter holds a digit, as every issued plate does.
func plate(m string) bool {
	body := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToUpper(r)
		}
		return -1
	}, m)
	if len(body) < 6 {
		return false
	}
	return strings.ContainsAny(body[1:], "0123456789")
}

// number classifies a run of digits (spaces and hyphens between groups removed): a mobile or
// landline number, an identity-card number whose check digit is right, or a GB/T 28181 id.
func number(m string) string {
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '+' {
			return -1
		}
		return unicode.ToUpper(r)
	}, m)
	d = strings.TrimPrefix(d, "0086")
	if strings.HasPrefix(m, "+86") || strings.HasPrefix(m, "0086") {
		d = strings.TrimPrefix(d, "86")
	}
	switch {
	case len(d) == 18 && idCard(d):
		return DiscloseIDCard
	case len(d) == 20 && !strings.HasSuffix(d, "X"):
		return DiscloseID
	case len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9':
		return DisclosePhone
	case d[0] == '0' && len(d) >= 10 && len(d) <= 12 && d[1] != '0' && !strings.HasSuffix(d, "X"):
		return DisclosePhone
	}
	return ""
}

// idCard checks the GB 11643 check digit of an 18-character identity-card number.
func idCard(d string) bool {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		c := d[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * weights[i]
	}
	return "10X98765432"[sum%11] == d[17]
}
