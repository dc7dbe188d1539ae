package api

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shoalmesh/shoal/services/apigateway/registry"
)

var reasonCodes = map[registry.Reason]codes.Code{
	registry.ReasonInvalid:            codes.InvalidArgument,
	registry.ReasonNotFound:           codes.NotFound,
	registry.ReasonAlreadyExists:      codes.AlreadyExists,
	registry.ReasonConflict:           codes.Aborted,
	registry.ReasonFailedPrecondition: codes.FailedPrecondition,
	registry.ReasonGone:               codes.OutOfRange,
	registry.ReasonTimeout:            codes.Unavailable,
	registry.ReasonUnavailable:        codes.Unavailable,
	registry.ReasonQuotaExceeded:      codes.ResourceExhausted,
}

// toStatus is the one translation from internal errors to gRPC statuses.
func toStatus(log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var e *registry.Error
	if errors.As(err, &e) {
		code, ok := reasonCodes[e.Reason]
		if !ok {
			code = codes.Unknown
		}
		st := status.New(code, e.Message)
		if len(e.Fields) > 0 {
			br := &errdetails.BadRequest{}
			for _, f := range e.Fields {
				br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.ErrorBody()})
			}
			if withDetails, derr := st.WithDetails(br); derr == nil {
				st = withDetails
			}
		}
		return st.Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	log.Error("internal error", "err", err)
	return status.Error(codes.Internal, err.Error())
}

// badRequest is an INVALID_ARGUMENT naming one field.
func badRequest(fieldPath, description string) error {
	st := status.New(codes.InvalidArgument, fieldPath+": "+description)
	if withDetails, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: fieldPath, Description: description}}}); err == nil {
		st = withDetails
	}
	return st.Err()
}
