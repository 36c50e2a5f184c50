// Package ptid validates Portuguese identifiers and contact details: NIF,
// NISS, Cartão de Cidadão document numbers, postal codes, e-mail addresses
// and telephone numbers.
//
// The validators take input that the caller has already trimmed and do their
// own normalisation, so a citizen may type "123 456 789" or "123-456-789".
// A check digit only proves that a number is well formed, not that it was
// issued or belongs to the person who typed it.
package ptid
