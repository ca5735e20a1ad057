package io.cvmmanager.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/** One HTTP request over a real socket, with a client of its own that is closed afterwards. */
record HttpGet(int status, String contentType, String body) {

  static HttpGet get(Vertx vertx, int port, String path) {
    return request(vertx, new HttpClientOptions(), HttpMethod.GET, port, path).await();
  }

  static Future<HttpGet> request(Vertx vertx, HttpClientOptions options, HttpMethod method, int port, String path) {
    var client = vertx.createHttpClient(options);
    return client.request(new RequestOptions().setMethod(method).setHost("localhost").setPort(port).setURI(path)
            .setIdleTimeout(10_000))
        .compose(request -> request.send())
        .compose(response -> response.body().map(body -> new HttpGet(response.statusCode(),
            response.getHeader("content-type"), body.toString())))
        .eventually(client::close);
  }
}
