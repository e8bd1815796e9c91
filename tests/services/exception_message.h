// A helper for the store tests: the message of the declared exception a
// call raises, so that a test can assert what the message names.
#ifndef TESTS_SERVICES_EXCEPTION_MESSAGE_H_
#define TESTS_SERVICES_EXCEPTION_MESSAGE_H_

#include <string>

// Runs `call` and returns the `message` of the `Exception` it throws, or
// "no exception" when it returns normally.
template <typename Exception, typename Call>
std::string message_of(Call&& call) {
  try {
    call();
  } catch (const Exception& error) {
    return error.message;
  }
  return "no exception";
}

#endif  // TESTS_SERVICES_EXCEPTION_MESSAGE_H_
