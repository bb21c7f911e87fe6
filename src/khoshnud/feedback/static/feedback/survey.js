// The public survey page: a score tapped in the email is saved at once (the form is
// server-rendered and works without this script too).
document.addEventListener("DOMContentLoaded", function () {
  var oneTap = document.getElementById("one-tap");
  if (oneTap) {
    oneTap.submit();
  }
});
