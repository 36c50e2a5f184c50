package portal

import (
	"errors"
	"net/http"

	"balcao/internal/booking"
	"balcao/internal/httpx"
	"balcao/internal/view"
)

type contactForm struct {
	Theme, Subject, Message, PreferredTimes, Name, Email, Phone, Language string
}

type contactPage struct {
	view.Page
	Services []serviceItem
	Form     contactForm
	Errors   view.FormErrors
}

// contactFields are the contact form's inputs, in order, for its error summary.
var contactFields = []view.Field{{Name: "theme", LabelKey: "contact.theme"}, {Name: "subject", LabelKey: "contact.subject"},
	{Name: "message", LabelKey: "contact.message"}, {Name: "preferred_times", LabelKey: "contact.preferred_times"},
	{Name: "citizen.name", LabelKey: "field.name"}, {Name: "citizen.email", LabelKey: "field.email"},
	{Name: "citizen.phone", LabelKey: "field.phone"}, {Name: "citizen.language", LabelKey: "field.language"}}

func (p *Portal) contactForm(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("sent") == "1" {
		return p.view.Render(w, http.StatusOK, "contact_done", struct{ view.Page }{p.page(r, "contact.done_title")})
	}
	pg := p.page(r, "contact.title")
	services, err := p.serviceItems(r, pg.Lang)
	if err != nil {
		return err
	}
	form := contactForm{Language: langChoice(pg.Lang), Theme: r.URL.Query().Get("theme")}
	return p.view.Render(w, http.StatusOK, "contact", contactPage{Page: pg, Services: services, Form: form})
}

func (p *Portal) contact(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	}
	f := contactForm{Theme: r.PostForm.Get("theme"), Subject: r.PostForm.Get("subject"), Message: r.PostForm.Get("message"),
		PreferredTimes: r.PostForm.Get("preferred_times"), Name: r.PostForm.Get("citizen.name"),
		Email: r.PostForm.Get("citizen.email"), Phone: r.PostForm.Get("citizen.phone"), Language: r.PostForm.Get("citizen.language")}
	_, err := p.svc.RequestContact(r.Context(), booking.ContactRequest{ThemeID: f.Theme, Subject: f.Subject,
		Message: f.Message, PreferredTimes: f.PreferredTimes,
		Citizen: booking.Citizen{Name: f.Name, Email: f.Email, Phone: f.Phone, Language: f.Language}})
	var invalid *booking.InvalidError
	if errors.As(err, &invalid) {
		pg := p.page(r, "contact.title")
		services, serr := p.serviceItems(r, pg.Lang)
		if serr != nil {
			return serr
		}
		data := contactPage{Page: pg, Services: services, Form: f, Errors: pg.Errors(invalid.Fields, contactFields)}
		return p.view.Render(w, http.StatusUnprocessableEntity, "contact", data)
	}
	if err != nil {
		return serviceError(err)
	}
	http.Redirect(w, r, "/contact?sent=1", http.StatusSeeOther)
	return nil
}
