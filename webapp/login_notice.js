// The login page's notice for a throttled login. Gradio's form shows a message only for a wrong password
// (400); webapp.signin answers a login tried too often with 429 and how long to wait. Show that text.
(() => {
  const fetchFirst = window.fetch;
  window.fetch = async (...args) => {
    const answer = await fetchFirst(...args);
    const target = args[0] instanceof Request ? args[0].url : String(args[0]);
    if (answer.status === 429 && /\/login\/?$/.test(new URL(target, location.href).pathname)) {
      const { detail } = await answer.clone().json().catch(() => ({}));
      let notice = document.getElementById("login-throttled");
      if (!notice) {
        notice = document.createElement("div");
        notice.id = "login-throttled";
        notice.setAttribute("role", "alert");
        notice.style.cssText =
          "position:fixed;top:1rem;left:50%;transform:translateX(-50%);z-index:1000;padding:0.6rem 1rem;" +
          "border-radius:6px;background:#fff3cd;color:#5c4400;border:1px solid #e0c36a;font:15px sans-serif";
        document.body.prepend(notice);
      }
      notice.textContent = detail || "Too many failed logins: wait a little, then try again.";
    }
    return answer;
  };
})();
