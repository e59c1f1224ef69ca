import asyncio, json, os, time
import aiohttp                           # pip install aiohttp beautifulsoup4
from bs4 import BeautifulSoup            # a real HTML parser

BASE = os.environ.get("PLAYGROUND_BASE", "https://httpbin.org")
URLS = [f"{BASE}/html", f"{BASE}/json", f"{BASE}/status/404", f"{BASE}/status/500",
        f"{BASE}/delay/10"]              # answers after the timeout: an error for that page only
CONCURRENCY = 3                          # at most N requests at once
POLITENESS_S = 0.5                       # pause after each page before the slot is freed
TIMEOUT_S = 1.0                          # per page (the page's default, at a time scale of 0.3)

async def scrape(session, semaphore, url, delay=POLITENESS_S):
    async with semaphore:                # at most N of these blocks run at once
        start = time.perf_counter()
        try:
            async with session.get(url) as response:
                html = await response.text()
                soup = BeautifulSoup(html, "html.parser")
                title = soup.title.string if soup.title else None
                links = [a["href"] for a in soup.find_all("a", href=True)][:10]
                page = {"url": url, "status": response.status, "size": len(html),
                        "title": title, "links": links}
        except Exception as error:       # stays with this page
            page = {"url": url, "error": repr(error)}
        page["seconds"] = time.perf_counter() - start
        await asyncio.sleep(delay)       # politeness: pause before freeing the slot
        return page

def save(pages, path):
    with open(path, "w") as f:
        json.dump(pages, f, indent=2)

async def main(urls, n=CONCURRENCY):
    semaphore = asyncio.Semaphore(n)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        pages = await asyncio.gather(*(scrape(session, semaphore, u) for u in urls))
    await asyncio.to_thread(save, pages, "pages.json")   # a file write blocks: off the loop
    for page in pages:
        print(page["url"], page.get("status", page.get("error")), page.get("title"))
    print("pages", len(pages), "errors", sum("error" in p for p in pages))

if __name__ == "__main__":
    asyncio.run(main(URLS))
