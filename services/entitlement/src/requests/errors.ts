export { InvalidFieldError } from "@tailor/grpc";
