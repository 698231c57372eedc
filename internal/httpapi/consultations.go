package httpapi

import (
	"net/http"

	"civicam/internal/auth"
	"civicam/internal/consultation"
)

// police may answer the public's opinions: the platform team and the officers.
var police = []auth.Role{auth.RoleAdmin, auth.RoleReviewer}

// consultationRoutes are public consultation (REG-8): the record is public, and so is the
// opinion form; the police publish, answer and finalise.
func (s *Server) consultationRoutes() []Route {
	if s.consult == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/consultations", nil, s.listConsultations},
		{"POST", "/api/v1/consultations", admins, s.publishConsultation},
		{"GET", "/api/v1/consultations/{id}", nil, s.consultationRecord},
		{"POST", "/api/v1/consultations/{id}/opinions", nil, s.submitOpinion},
		{"POST", "/api/v1/consultations/receipt", nil, s.opinionByReceipt},
		{"POST", "/api/v1/consultations/{id}/opinions/{oid}/answer", police, s.answerOpinion},
		{"POST", "/api/v1/consultations/{id}/final", admins, s.publishFinal},
	}
}

func (s *Server) listConsultations(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.consult.Consultations(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"consultations": cs})
	return nil
}

func (s *Server) publishConsultation(w http.ResponseWriter, r *http.Request) error {
	var in consultation.DraftInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.consult.Publish(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) consultationRecord(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.consult.Record(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

// opinionRequest is the public opinion form: the text and nothing about who sends it.
type opinionRequest struct {
	Text string `json:"text"`
}

func (s *Server) submitOpinion(w http.ResponseWriter, r *http.Request) error {
	var in opinionRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rc, err := s.consult.Submit(r.Context(), clientAddr(r), r.PathValue("id"), in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc)
	return nil
}

// receiptRequest carries a receipt code in the body, so that it stays out of URLs and their logs.
type receiptRequest struct {
	Receipt string `json:"receipt"`
}

func (s *Server) opinionByReceipt(w http.ResponseWriter, r *http.Request) error {
	var in receiptRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	o, err := s.consult.ByReceipt(r.Context(), in.Receipt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) answerOpinion(w http.ResponseWriter, r *http.Request) error {
	var in consultation.AnswerInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	o, err := s.consult.Answer(r.Context(), r.PathValue("id"), r.PathValue("oid"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) publishFinal(w http.ResponseWriter, r *http.Request) error {
	var in consultation.FinalInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.consult.PublishFinal(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
