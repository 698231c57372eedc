package lostperson

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Contact is how an applicant is reached: a phone number or an e-mail address.
type Contact struct {
	Kind    string `json:"kind"` // "phone" or "email"
	Address string `json:"address"`
}

// Registration is a self-registration waiting for its contact to be verified. The code is
// kept only as a hash bound to the registration id.
type Registration struct {
	ID           string
	Username     string
	PasswordHash string
	Contact      Contact
	CodeHash     []byte
	Attempts     int
	ExpiresAt    time.Time
	CreatedAt    time.Time
	UsedAt       time.Time
}

// Pending is what the applicant is told after registering: where the message went and until
// when a code works. It reads the same whether the username was free or taken, so that
// registering cannot tell who has an account; only the message to the contact says which (a
// code, or a notice that the name is taken). The code itself only travels through the outbox.
type Pending struct {
	RegistrationID string    `json:"registration_id"`
	SentTo         string    `json:"sent_to"` // the contact, partly masked
	ExpiresAt      time.Time `json:"expires_at"`
	// Note says so in words, as a password-reset page does.
	Note string `json:"note"`
}

// PendingNote is Pending.Note.
const PendingNote = "If the username was free, a 6-digit code was sent to your contact: enter it to finish. " +
	"If the username is taken, your contact gets a message saying so instead: register again with another username."

// ParseContact recognises an e-mail address or a phone number (digits, an optional leading +,
// spaces and dashes ignored).
func ParseContact(s string) (Contact, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || len(a.Address) > 254 {
			return Contact{}, invalid("contact", "is neither a phone number nor an e-mail address")
		}
		return Contact{Kind: "email", Address: strings.ToLower(a.Address)}, nil
	}
	var b strings.Builder
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
			b.WriteRune(c)
		case c == ' ' || c == '-':
		default:
			return Contact{}, invalid("contact", "is neither a phone number nor an e-mail address")
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	if len(digits) < 6 || len(digits) > 15 {
		return Contact{}, invalid("contact", "a phone number has 6 to 15 digits")
	}
	return Contact{Kind: "phone", Address: b.String()}, nil
}

func (c Contact) masked() string {
	a := c.Address
	if c.Kind == "email" {
		at := strings.LastIndex(a, "@")
		if at <= 1 {
			return "*" + a[at:]
		}
		return a[:1] + strings.Repeat("*", at-1) + a[at:]
	}
	if len(a) <= 4 {
		return a
	}
	return strings.Repeat("*", len(a)-4) + a[len(a)-4:]
}

func codeHash(registrationID, code string) []byte {
	h := sha256.Sum256([]byte("civicam-applicant-code\x00" + registrationID + "\x00" + code))
	return h[:]
}

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the kernel's RNG does not fail on Linux
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// Register starts a self-registration: it checks the username, password and contact, and sends
// a 6-digit code to the contact through the outbox. A taken username is answered exactly as a
// free one, after the same work (the password is hashed either way); the contact is told
// instead that the name is taken, and the registration holds no code, so it cannot be verified.
// Registrations are throttled per client address (the context's actor) and per contact, and
// traced.
func (s *Service) Register(ctx context.Context, username, password, contact string) (*Pending, error) {
	username = strings.TrimSpace(username)
	if err := auth.CheckUsername(username); err != nil {
		return nil, invalid("username", "%v", err)
	}
	if err := auth.CheckPassword(password); err != nil {
		return nil, invalid("password", "%v", err)
	}
	c, err := ParseContact(contact)
	if err != nil {
		return nil, err
	}
	actor, _ := auth.ActorFrom(ctx)
	ctx = auth.WithActor(ctx, auth.Actor{Username: username, ClientAddr: actor.ClientAddr})
	if ok, wait := s.registrations.Take(actor.ClientAddr); !ok {
		if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicantRegister, Outcome: trace.Denied,
			Reason: "too many registrations from this address"}); err != nil {
			return nil, err
		}
		return nil, &fault.Error{Kind: fault.Throttled, Code: "too_many_requests", RetryAfter: wait,
			Message: "too many registrations from your address; try again later",
			Err:     fmt.Errorf("%w: registrations from %s", ErrTooMany, actor.ClientAddr)}
	}
	now := s.now().UTC()
	n, err := s.repo.CountRegistrations(ctx, c.Address, now.Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	if n >= s.cfg.CodesPerHour {
		return nil, &fault.Error{Kind: fault.Throttled, Code: "too_many_requests", RetryAfter: time.Hour,
			Message: "too many codes sent to this contact; try again in an hour",
			Err:     fmt.Errorf("%w: %d codes were sent to this contact in the last hour", ErrTooMany, n)}
	}
	taken, err := s.repo.UsernameTaken(ctx, username)
	if err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	r := &Registration{ID: registry.NewID(), Username: username, PasswordHash: hash, Contact: c,
		ExpiresAt: now.Add(s.cfg.CodeTTL), CreatedAt: now}
	var msg *Message
	reason := "code sent"
	if taken {
		r.PasswordHash, r.CodeHash = "", []byte{} // no code matches an empty hash
		msg, reason = s.takenMessage(now, c, r.ID, username), "username taken: the contact is told so, no code sent"
	} else {
		code := newCode()
		r.CodeHash = codeHash(r.ID, code)
		msg = s.codeMessage(now, c, r.ID, code)
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicantRegister, Reference: r.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("registration %s, %s %s: %s", r.ID, c.Kind, c.masked(), reason)}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateRegistration(ctx, r); err != nil {
		return nil, err
	}
	if err := s.repo.EnqueueMessage(ctx, msg); err != nil {
		return nil, err
	}
	return &Pending{RegistrationID: r.ID, SentTo: c.masked(), ExpiresAt: r.ExpiresAt, Note: PendingNote}, nil
}

// codeMessage sends a registration's verification code.
func (s *Service) codeMessage(now time.Time, c Contact, registrationID, code string) *Message {
	mins := int(s.cfg.CodeTTL.Minutes())
	return s.message(now, "verification_code", c, registrationID, "civicam: your verification code / 验证码",
		fmt.Sprintf("Your civicam verification code is %s. It expires in %d minutes.\n您的验证码是 %s，%d 分钟内有效。",
			code, mins, code, mins))
}

// takenMessage tells the contact that the username it was registered with is taken; it holds
// no code.
func (s *Service) takenMessage(now time.Time, c Contact, registrationID, username string) *Message {
	return s.message(now, "username_taken", c, registrationID, "civicam: choose another username / 请更换用户名",
		fmt.Sprintf("Someone registered with this contact as %q, a username that is taken. No account was created: "+
			"register again with another username.\n有人用此联系方式注册用户名 %q，该用户名已被占用，未创建账户。请换一个用户名重新注册。",
			username, username))
}

// Verify activates a registration with its code, creating the applicant account. Wrong codes
// are counted; after Config.CodeAttempts of them, or after expiry, the registration is dead.
func (s *Service) Verify(ctx context.Context, registrationID, code string) (_ *auth.User, err error) {
	// A refused code is traced: guessing codes is an attack on someone's registration, and
	// the trail is where an auditor looks for it. (The trail's own failure is not traced again.)
	defer func() {
		if err == nil || errors.Is(err, trace.ErrUnavailable) {
			return
		}
		if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicantRegister, Outcome: trace.Denied,
			Reference: registrationID, Reason: "verification refused: " + err.Error()}); terr != nil {
			err = terr
		}
	}()
	if !registry.ValidID(registrationID) {
		return nil, invalid("registration_id", "is not a valid id")
	}
	r, err := s.repo.Registration(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	switch {
	case !r.UsedAt.IsZero():
		return nil, codeRefused("already used")
	case !now.Before(r.ExpiresAt):
		return nil, codeRefused("expired; register again")
	case r.Attempts >= s.cfg.CodeAttempts:
		return nil, codeRefused("too many wrong codes; register again")
	}
	if subtle.ConstantTimeCompare(codeHash(r.ID, strings.TrimSpace(code)), r.CodeHash) != 1 {
		n, err := s.repo.RegistrationFailed(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		return nil, codeRefused(fmt.Sprintf("wrong code; %d attempts left", max(0, s.cfg.CodeAttempts-n)))
	}
	u := &auth.User{ID: registry.NewID(), Username: r.Username, PasswordHash: r.PasswordHash,
		Role: auth.RoleApplicant, CreatedAt: now, UpdatedAt: now}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionUserCreate, Outcome: trace.Allowed,
		Reason: "user " + u.ID + " " + u.Username + " as applicant (self-registered, " + r.Contact.Kind + " verified)"}); err != nil {
		return nil, err
	}
	if err := s.repo.ActivateApplicant(ctx, r.ID, u, r.Contact); err != nil {
		return nil, err
	}
	return u, nil
}
