// Hypernet's GraphiQL page: the editor against this server's /graphql, with the headers pane
// open (sign in with the `login` mutation, then send `Authorization: Bearer <accessToken>`).
(function () {
  var url = new URL('/graphql', window.location.href).toString();
  var fetcher = GraphiQL.createFetcher({ url: url });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: true,
    })
  );
})();
