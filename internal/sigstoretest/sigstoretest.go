// Package sigstoretest makes Sigstore inputs for tests, offline: keyless
// bundles from sigstore-go's in-memory test Sigstore (a Fulcio CA, a Rekor
// log, a timestamp authority) and that Sigstore's trusted_root.json.
package sigstoretest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/opencontainers/go-digest"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
)

// MediaTypeBundle is the media type of the bundles made here, and of the
// layer cosign stores one in.
const MediaTypeBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Statement is the in-toto statement cosign sign --new-bundle-format signs
// for a manifest: its digest as the subject.
func Statement(signed digest.Digest) []byte {
	return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"localhost/test","digest":{"` +
		signed.Algorithm().String() + `":"` + signed.Encoded() + `"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`)
}

// KeylessBundle makes a keyless Sigstore bundle (JSON) of Statement(signed)
// with vs: a certificate for identity and issuer (valid 10 minutes from
// now), a Rekor entry integrated at integrated with its signed promise and
// inclusion proof, and an RFC 3161 timestamp.
func KeylessBundle(vs *ca.VirtualSigstore, identity, issuer string, signed digest.Digest, integrated time.Time) ([]byte, error) {
	e, err := vs.AttestAtTime(identity, issuer, Statement(signed), integrated, true)
	if err != nil {
		return nil, err
	}
	vc, _ := e.VerificationContent()
	sc, _ := e.SignatureContent()
	tsrs, _ := e.Timestamps()
	entries, _ := e.TlogEntries()
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, err
	}
	vm := &protobundle.VerificationMaterial{
		Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
		TimestampVerificationData: &protobundle.TimestampVerificationData{},
	}
	for _, ts := range tsrs {
		vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	logID, err := vs.RekorLogID()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		// tlog.NewEntry keeps the signed entry timestamp and the kind
		// aside; a bundle carries them in the entry.
		tle := e.TransparencyLogEntry()
		tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
		set, err := vs.RekorSignPayload(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody), IntegratedTime: tle.IntegratedTime, LogIndex: tle.LogIndex, LogID: logID})
		if err != nil {
			return nil, err
		}
		tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
		vm.TlogEntries = append(vm.TlogEntries, tle)
	}
	return protojson.Marshal(&protobundle.Bundle{
		MediaType:            MediaTypeBundle,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sc.Signature()}},
		}},
	})
}

// TrustedRoot returns vs's trusted_root.json: its Fulcio CA, Rekor log and
// timestamp authority, and no CT log (so no SCT is required).
func TrustedRoot(vs *ca.VirtualSigstore) ([]byte, error) {
	// VirtualSigstore gives a log's ID as its hex spelling; a trusted root
	// file holds the raw key ID.
	logs := vs.RekorLogs()
	for id, l := range logs {
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, err
		}
		l.ID = raw
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), nil, vs.TimestampingAuthorities(), logs)
	if err != nil {
		return nil, err
	}
	return json.Marshal(tr)
}
