package lostperson

import (
	"context"
	"time"

	"civicam/internal/auth"
)

// Repo is the storage the application desk needs; *store.DB implements it. Lookups of a missing
// row return an error matching ErrNotFound.
type Repo interface {
	UsernameTaken(ctx context.Context, username string) (bool, error)

	CreateRegistration(ctx context.Context, r *Registration) error
	Registration(ctx context.Context, id string) (*Registration, error)
	// CountRegistrations counts the codes sent to a contact since a time.
	CountRegistrations(ctx context.Context, contact string, since time.Time) (int, error)
	// RegistrationFailed counts one more wrong code and returns the new count.
	RegistrationFailed(ctx context.Context, id string) (int, error)
	// ActivateApplicant, in one transaction, marks the registration used (failing with
	// ErrNotFound if it already was), creates the user and stores its verified contact.
	ActivateApplicant(ctx context.Context, registrationID string, u *auth.User, c Contact) error
	ApplicantContact(ctx context.Context, userID string) (Contact, error)

	// CreateProcedure stores a new version, numbering it one past the newest.
	CreateProcedure(ctx context.Context, p *Procedure) error
	// Procedures lists every version, newest first.
	Procedures(ctx context.Context) ([]*Procedure, error)

	CreateApplication(ctx context.Context, a *Application) error
	Application(ctx context.Context, id string) (*Application, error)
	Applications(ctx context.Context, f Filter) ([]*Application, error)
	// UpdateApplication writes a changed application if it still has status from (else an error
	// matching ErrState), and enqueues notify, when given, in the same transaction.
	UpdateApplication(ctx context.Context, a *Application, from Status, notify *Message) error
	// ApplicationsSince returns every application submitted at or after t, for the statistics.
	ApplicationsSince(ctx context.Context, t time.Time) ([]*Application, error)

	AddDocument(ctx context.Context, d *Document) error
	Documents(ctx context.Context, applicationID string) ([]*Document, error)
	AddFinding(ctx context.Context, f *Finding) error
	Findings(ctx context.Context, applicationID string) ([]*Finding, error)
	// PutGrants stores grants, replacing the window of an existing (application, reviewer,
	// camera) grant.
	PutGrants(ctx context.Context, gs []FootageGrant) error
	Grant(ctx context.Context, applicationID, reviewerID, cameraID string) (*FootageGrant, error)

	CreateFootageRequest(ctx context.Context, r *FootageRequest) error
	FootageRequest(ctx context.Context, id string) (*FootageRequest, error)
	// FootageRequests lists the requests the filter matches, oldest first.
	FootageRequests(ctx context.Context, f RequestFilter) ([]*FootageRequest, error)
	// DecideFootageRequest writes a decided request if it is still pending (else an error
	// matching ErrState).
	DecideFootageRequest(ctx context.Context, r *FootageRequest) error
	// CreateNotice stores a draft notice, withdrawing any earlier draft of the application.
	CreateNotice(ctx context.Context, n *Notice) error
	// Notices lists an application's notices, oldest first.
	Notices(ctx context.Context, applicationID string) ([]*Notice, error)
	// SendNotice, in one transaction, marks a draft notice sent (else ErrState), marks the sent
	// notice it supersedes superseded, writes the application if it still has status from (else
	// ErrState), and enqueues notify when given.
	SendNotice(ctx context.Context, n *Notice, a *Application, from Status, notify *Message) error

	AddShownDocument(ctx context.Context, d *ShownDocument) error
	ShownDocuments(ctx context.Context, applicationID string) ([]*ShownDocument, error)

	OutboxRepo
}

// OutboxRepo is the storage of the notification outbox.
type OutboxRepo interface {
	EnqueueMessage(ctx context.Context, m *Message) error
	// DueMessages lists pending messages whose next attempt is due, oldest first.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]*Message, error)
	// ClaimMessage moves a pending message's next attempt from old to until, reporting whether
	// this caller won it (another node may be delivering the same outbox).
	ClaimMessage(ctx context.Context, id string, old, until time.Time) (bool, error)
	// UpdateMessage writes a message's delivery state.
	UpdateMessage(ctx context.Context, m *Message) error
	Message(ctx context.Context, id string) (*Message, error)
}
